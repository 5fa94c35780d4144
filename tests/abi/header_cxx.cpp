// The public header compiles alone as C++ (-pedantic -Werror) and has C linkage.
#include <torchinfer.h>

#include <type_traits>

static_assert(TI_OK == 0, "TI_OK is 0");
static_assert(TI_DTYPE_FLOAT32 == 0 && TI_DTYPE_BOOL == 9, "dtype values are ABI");
static_assert(std::is_same<decltype(&ti_model_predict),
                           ti_error_t* (*)(ti_model_t*, const ti_tensor_t* const*, size_t,
                                           ti_outputs_t**)>::value,
              "ti_model_predict keeps its signature");
extern "C" const char* (*ti_header_cxx_version)(void);
const char* (*ti_header_cxx_version)(void) = ti_version;
