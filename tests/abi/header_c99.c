/* Compiled with -std=c99 -pedantic -Werror: the public header must be plain C99. */
#include <torchinfer.h>

#if !defined(TI_VERSION_MAJOR) || !defined(TI_VERSION_MINOR) || !defined(TI_VERSION_PATCH)
#error "torchinfer.h must provide the version macros"
#endif

/* Take the address of a few functions so that the declarations are really used. */
typedef ti_error_t *(*load_fn)(const char *, const ti_load_options_t *, ti_model_t **);
load_fn ti_header_c99_load = ti_model_load;
const char *(*ti_header_c99_version)(void) = ti_version;
