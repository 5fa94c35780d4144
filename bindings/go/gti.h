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
#include "torchinfer.h"

_Static_assert(sizeof(uintptr_t) == sizeof(void *), "handles are passed as uintptr_t");

#define GTI_MODEL(h) ((ti_model_t *)(h))
#define GTI_OUTPUTS(h) ((const ti_outputs_t *)(h))
#define GTI_RUN_OPTIONS(h) ((const ti_run_options_t *)(h))
/* An array of tensor handles, stored by Go as uintptr_t (same size and representation). */
#define GTI_INPUTS(p) ((const ti_tensor_t *const *)(const void *)(p))

#endif
