/* Shared by the cgo preambles of this package.
 *
 * The gti_ helpers on the hot path take handles as uintptr_t and Go buffers as uint8_t *:
 * cgo then has no argument whose pointees might hold Go pointers, and inserts no
 * runtime pointer check (cgocheck), which cost about 170 ns per prediction here. The
 * handles are C pointers, which the garbage collector ignores, and the buffers are Go
 * memory without pointers, so the checks had nothing to find.
 */
#ifndef GTI_H
#define GTI_H

#include <stdint.h>
#include <stdlib.h>
#include "torchinfer.h"

_Static_assert(sizeof(uintptr_t) == sizeof(void *), "handles are passed as uintptr_t");

#define GTI_MODEL(h) ((ti_model_t *)(h))
#define GTI_OUTPUTS(h) ((const ti_outputs_t *)(h))
#define GTI_RUN_OPTIONS(h) ((const ti_run_options_t *)(h))
#define GTI_BATCHER(h) ((ti_batcher_t *)(h))
/* An array of tensor handles, stored by Go as uintptr_t (same size and representation). */
#define GTI_INPUTS(p) ((const ti_tensor_t *const *)(const void *)(p))

/* The result of a call that makes outputs; oom: the name array could not be allocated (the
 * library was not called). */
typedef struct {
  ti_error_t *err;
  ti_outputs_t *out;
  int oom;
} gti_run_t;

/* Names passed from Go: one buffer holding n NUL-terminated names at the given offsets (Go
 * may not pass memory holding Go pointers, so the pointer array is built here). */
enum { GTI_SMALL_NAMES = 16 };

/* The names as an array: `small` (GTI_SMALL_NAMES entries) when they fit, malloc'ed
 * otherwise. NULL when buf is NULL (no names), or when the array cannot be allocated. */
static inline const char **gti_names(const char *buf, const size_t *offsets, size_t n, const char **small) {
  if (buf == NULL) return NULL;
  const char **names = n > GTI_SMALL_NAMES ? (const char **)malloc(n * sizeof(*names)) : small;
  if (names == NULL) return NULL;
  for (size_t i = 0; i < n; i++) names[i] = buf + offsets[i];
  return names;
}

static inline void gti_names_free(const char **names, const char **small) {
  if (names != small) free((void *)names);
}

#endif
