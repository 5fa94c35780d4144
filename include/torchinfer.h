/*
 * libtorchinfer: run PyTorch models (TorchScript archives and AOTInductor .pt2 packages)
 * through a C ABI.
 *
 * Copyright 2026 The libtorchinfer Authors. SPDX-License-Identifier: Apache-2.0
 *
 * Conventions (they hold for every declaration below):
 *
 * Errors. A fallible function returns `ti_error_t *`: NULL on success, otherwise
 *   an error the caller owns and frees with ti_error_free(). There is no
 *   thread-local "last error": an error is a value, readable from any thread.
 *   No C++ exception ever leaves the library and nothing in it aborts.
 *
 * Ownership. Every result written through an `out` parameter belongs to the
 *   caller and is freed with the matching `_free` function. On error `*out` is
 *   set to NULL (when `out` itself is not NULL). Every `_free` accepts NULL.
 *   A `const char *` or `const int64_t *` returned by an accessor is a view
 *   that stays valid until the handle it came from is freed.
 *
 * Thread safety.
 *   - ti_model_t: any number of threads may call ti_model_run, ti_model_predict*,
 *     ti_model_run_method* and the accessors on one model at the same time.
 *     ti_model_free must not race with any other use of that model.
 *   - Models may be loaded concurrently from any number of threads.
 *   - ti_tensor_t and ti_outputs_t are never modified by the library after
 *     creation: any number of threads may read them, and one tensor may be an
 *     input of concurrent predictions. Freeing must not race with other uses of
 *     the same handle. A TorchScript method that may write to an argument in
 *     place (x.add_(1); found by alias analysis on its first call) gets a copy of
 *     it; other inputs are passed without a copy. A result leaf that shares
 *     storage with the module's state (a buffer it returns) is copied.
 *   - ti_run_options_t: ti_run_options_cancel is thread-safe at any time; set
 *     the timeout before sharing the options (later calls see the new value).
 *   - ti_load_options_t: not synchronized; do not set options from one thread
 *     while another thread loads with them.
 *   - A handle may be freed on a different thread than the one that made it.
 *
 * Execution. Every run happens under c10::InferenceMode on a model in eval
 *   mode; LibTorch's thread-local settings (inference mode, intra-op thread
 *   count, current device) are applied inside each call, so callers may use a
 *   fresh OS thread for every call (Go, Java virtual threads).
 */
#ifndef TORCHINFER_H
#define TORCHINFER_H

#include <stddef.h>
#include <stdint.h>

#include "torchinfer/version.h" /* generated: TI_VERSION_MAJOR/MINOR/PATCH, TI_VERSION_STRING */

#if defined(_WIN32)
#  if defined(TI_BUILDING_LIBRARY)
#    define TI_API __declspec(dllexport)
#  else
#    define TI_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define TI_API __attribute__((visibility("default")))
#else
#  define TI_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Types                                                                     */
/* ------------------------------------------------------------------------ */

/** A loaded model: a TorchScript module or an AOTInductor package (see ti_model_format). */
typedef struct ti_model ti_model_t;
/** An n-dimensional array on a device (CPU or CUDA). */
typedef struct ti_tensor ti_tensor_t;
/** The flattened, named leaves of one prediction's result. */
typedef struct ti_outputs ti_outputs_t;
/** A failure: a code and a message. */
typedef struct ti_error ti_error_t;
/** Settings for ti_model_load / ti_model_load_buffer. */
typedef struct ti_load_options ti_load_options_t;
/** Per-call settings for ti_model_run: a timeout and a cancel switch. */
typedef struct ti_run_options ti_run_options_t;
/** The arguments of one method call, of any TorchScript type, set by path (see ti_inputs_create). */
typedef struct ti_inputs ti_inputs_t;
/** A dynamic batcher: many callers' small requests run as one batched call (see ti_batcher_create). */
typedef struct ti_batcher ti_batcher_t;
/** Settings for ti_batcher_create. */
typedef struct ti_batcher_options ti_batcher_options_t;

/** Error codes. New codes may be added at the end. */
typedef enum {
  TI_OK = 0,               /**< Never carried by an error; ti_error_code(NULL). */
  TI_ERR_INVALID_ARGUMENT, /**< NULL where a value is needed, bad counts, names, sizes, shapes. */
  TI_ERR_NOT_FOUND,        /**< Missing file, method or output name. */
  TI_ERR_MODEL_FORMAT,     /**< Not a model this LibTorch can load (TorchScript or .pt2). */
  TI_ERR_RUNTIME,          /**< Raised while the model ran; the model stays usable. */
  TI_ERR_OUT_OF_MEMORY,    /**< Host or device allocation failed; the model stays usable. */
  TI_ERR_DEVICE,           /**< The requested device is not present (never a CPU fallback). */
  TI_ERR_UNSUPPORTED,      /**< A value the C API cannot represent (strings, objects, ...). */
  TI_ERR_INTERNAL,         /**< A bug in libtorchinfer; please report it. */
  TI_ERR_CANCELLED,        /**< ti_run_options_cancel was called; the model stays usable. */
  TI_ERR_DEADLINE_EXCEEDED, /**< The call ran past its run options' timeout; the model stays usable. */
  TI_ERR_UNAVAILABLE        /**< A batcher's queue is full, or the batcher is being freed; retry later. */
} ti_code_t;

/** The kind of an output leaf (ti_outputs_kind). The values are part of the ABI. */
typedef enum {
  TI_KIND_TENSOR = 0, /**< A tensor (int, float and bool results are 0-dim tensors). */
  TI_KIND_STRING = 1, /**< A str: read it with ti_outputs_string. */
  TI_KIND_NONE = 2    /**< A None (an Optional result that was empty). */
} ti_kind_t;

/** Element types. The values are part of the ABI. */
typedef enum {
  TI_DTYPE_FLOAT32 = 0,
  TI_DTYPE_FLOAT64,
  TI_DTYPE_FLOAT16,  /**< IEEE 754 binary16, passed as raw 16-bit patterns. */
  TI_DTYPE_BFLOAT16, /**< bfloat16, passed as raw 16-bit patterns. */
  TI_DTYPE_INT8,
  TI_DTYPE_UINT8,
  TI_DTYPE_INT16,
  TI_DTYPE_INT32,
  TI_DTYPE_INT64,
  TI_DTYPE_BOOL /**< One byte per element, 0 or 1. */
} ti_dtype_t;

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/** The error's code; TI_OK when `e` is NULL. */
TI_API ti_code_t ti_error_code(const ti_error_t *e);

/** The error's message (UTF-8, no C++ backtrace), owned by `e`; "" when `e` is NULL. */
TI_API const char *ti_error_message(const ti_error_t *e);

/** Frees an error. Accepts NULL. */
TI_API void ti_error_free(ti_error_t *e);

/** A static, human-readable name for a code ("TI_ERR_NOT_FOUND"); "TI_ERR_UNKNOWN" if out of range. */
TI_API const char *ti_code_name(ti_code_t code);

/* ------------------------------------------------------------------------ */
/* Runtime                                                                   */
/* ------------------------------------------------------------------------ */

/** The library's version at run time, e.g. "0.1.0" (static storage). Compare with TI_VERSION_STRING. */
TI_API const char *ti_version(void);

/** The version of the LibTorch the library was built against, e.g. "1.13.0" (static storage). */
TI_API const char *ti_torch_version(void);

/**
 * Sets the number of intra-op threads used by every later call, from any thread
 * (1 <= n <= 1024: LibTorch starts every thread asked for). The setting is process-wide and
 * applied inside each prediction.
 * Errors: TI_ERR_INVALID_ARGUMENT when n < 1 or n > 1024.
 */
TI_API ti_error_t *ti_set_num_threads(int n);

/** The intra-op thread count predictions use (the value last set, or LibTorch's default). */
TI_API int ti_get_num_threads(void);

/** The number of CUDA devices LibTorch can use; 0 for a CPU-only build or machine. */
TI_API int ti_cuda_device_count(void);

/**
 * The number of live handles (models, tensors, outputs, inputs, batchers, load, run and batcher
 * options, errors) in the process.
 * For leak tests: after a test frees everything it made, this is back where it started.
 */
TI_API int64_t ti_live_handles(void);

/* ------------------------------------------------------------------------ */
/* Data types                                                                */
/* ------------------------------------------------------------------------ */

/** Bytes per element of `dtype`; 0 if `dtype` is not a ti_dtype_t value. */
TI_API size_t ti_dtype_size(ti_dtype_t dtype);

/** A static lowercase name ("float32", "bfloat16", "bool"); "unknown" if out of range. */
TI_API const char *ti_dtype_name(ti_dtype_t dtype);

/* ------------------------------------------------------------------------ */
/* Tensors                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * Creates a CPU tensor holding a copy of `data` (row-major, contiguous).
 * `shape` has `ndim` entries (may be NULL when ndim is 0: a scalar); `nbytes` must equal
 * product(shape) * ti_dtype_size(dtype). `data` may be NULL only when nbytes is 0.
 * The caller owns `*out` (ti_tensor_free) and keeps ownership of `data` and `shape`.
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL out, unknown dtype, negative dimension, nbytes
 * mismatch), TI_ERR_OUT_OF_MEMORY.
 */
TI_API ti_error_t *ti_tensor_create(ti_dtype_t dtype, const int64_t *shape, size_t ndim,
                                    const void *data, size_t nbytes, ti_tensor_t **out);

/**
 * Creates a CPU tensor over the caller's memory, without copying. `data` must hold
 * product(shape) * ti_dtype_size(dtype) == `nbytes` bytes, stay valid and unchanged until
 * `release(ctx)` is called, and be suitably aligned for `dtype`.
 *
 * `release` (which may be NULL) is called exactly once, whatever the outcome:
 *   - on error, before ti_tensor_wrap returns;
 *   - on success, when neither the handle nor anything derived from it needs the data any
 *     more: that is after ti_tensor_free, or later if a running prediction or an output that
 *     aliases the input (a model returning its argument) still holds it. It may be called on
 *     any thread.
 * Errors: as ti_tensor_create.
 */
TI_API ti_error_t *ti_tensor_wrap(ti_dtype_t dtype, const int64_t *shape, size_t ndim, void *data,
                                  size_t nbytes, void (*release)(void *ctx), void *ctx,
                                  ti_tensor_t **out);

/** Frees a tensor handle. Accepts NULL. Data shared with other handles stays alive for them. */
TI_API void ti_tensor_free(ti_tensor_t *t);

/** The element type. `t` must not be NULL (returns TI_DTYPE_FLOAT32 if it is). */
TI_API ti_dtype_t ti_tensor_dtype(const ti_tensor_t *t);

/** The number of dimensions (0 for a scalar, and for NULL). */
TI_API size_t ti_tensor_ndim(const ti_tensor_t *t);

/** The `ndim` sizes, a view valid until `t` is freed; NULL when ndim is 0 or `t` is NULL. */
TI_API const int64_t *ti_tensor_shape(const ti_tensor_t *t);

/** The number of elements (product of the shape; 1 for a scalar; 0 for NULL). */
TI_API int64_t ti_tensor_numel(const ti_tensor_t *t);

/** The size of the data in bytes: numel * ti_dtype_size(dtype) (0 for NULL). */
TI_API size_t ti_tensor_nbytes(const ti_tensor_t *t);

/**
 * The device the data is on, "cpu" or "cuda:N" (a view valid until `t` is freed; "" for NULL).
 */
TI_API const char *ti_tensor_device(const ti_tensor_t *t);

/**
 * Borrows the tensor's contiguous, row-major host data: `*data` stays valid until `t` is freed.
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL argument), TI_ERR_DEVICE (the tensor is not on the CPU;
 * use ti_tensor_copy_to).
 */
TI_API ti_error_t *ti_tensor_data(const ti_tensor_t *t, const void **data);

/**
 * Copies the tensor's data, row-major, into `dst` (host memory) from any device. `dst` may be
 * NULL only when dst_nbytes is 0 (an empty tensor).
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL argument, or dst_nbytes != ti_tensor_nbytes(t)),
 * TI_ERR_RUNTIME (a device copy failed).
 */
TI_API ti_error_t *ti_tensor_copy_to(const ti_tensor_t *t, void *dst, size_t dst_nbytes);

/* ------------------------------------------------------------------------ */
/* Load options                                                              */
/* ------------------------------------------------------------------------ */

/** New options with defaults (device "cpu"). Caller frees with ti_load_options_free. NULL only if out of memory. */
TI_API ti_load_options_t *ti_load_options_create(void);

/** Frees options. Accepts NULL. Models loaded with them do not depend on them. */
TI_API void ti_load_options_free(ti_load_options_t *o);

/**
 * Sets the device the model is loaded onto: "cpu", "cuda" (the current CUDA device,
 * normally 0) or "cuda:N". Availability is checked by ti_model_load: a CUDA device that is
 * not present fails the load with TI_ERR_DEVICE, it never falls back to the CPU.
 * Without this setting a TorchScript model loads onto the CPU and an AOTInductor package onto
 * the kind of device it was compiled for. A package compiled for the CPU asked to load onto
 * CUDA (or the reverse) fails with TI_ERR_DEVICE.
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL, or not a device string), TI_ERR_UNSUPPORTED (a device
 * type other than cpu and cuda, e.g. "mps").
 */
TI_API ti_error_t *ti_load_options_set_device(ti_load_options_t *o, const char *device);

/**
 * Optimises TorchScript models at load for inference. 0 (the default): load as saved.
 * 1: freeze the module (parameters and attributes become constants, submodules are inlined)
 * and apply LibTorch's inference passes (torch::jit::optimize_for_inference: folding of
 * batch norms into convolutions, pre-packed weights, fused operators). Outputs agree with
 * level 0 within floating-point reassociation (about 1e-5 relative on float32; see README).
 * A frozen model has only `forward` and the methods exported with @torch.jit.export.
 * No effect on .pt2 packages (compiled when exported).
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL, or level outside 0..1).
 */
TI_API ti_error_t *ti_load_options_set_optimize(ti_load_options_t *o, int level);

/**
 * Whether loading may run native code. 1 (the default): an AOTInductor .pt2 package, whose
 * compiled shared library runs in this process, loads. 0: only interpreted formats
 * (TorchScript) load; a .pt2 (or anything else that would load native code) fails with
 * TI_ERR_UNSUPPORTED before anything from it is written to disk or mapped. For services that
 * load models their users upload.
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL, or `allow` other than 0 or 1).
 */
TI_API ti_error_t *ti_load_options_set_allow_native_code(ti_load_options_t *o, int allow);

/* ------------------------------------------------------------------------ */
/* Models                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * Loads a model from `path`: a TorchScript archive (torch.jit.save) or, with LibTorch 2.6 or
 * newer, an AOTInductor package (.pt2, from torch.export + aoti_compile_and_package). The two
 * are told apart by content, never by file name; ti_model_format says which was loaded.
 * `opts` may be NULL (defaults). A TorchScript model is put in eval mode.
 * A .pt2 package is native code compiled by PyTorch: loading one runs code from it, so load
 * packages only from sources you trust (a TorchScript archive is interpreted, not executed).
 * The caller owns `*out` (ti_model_free).
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL path or out), TI_ERR_NOT_FOUND (no such file),
 * TI_ERR_MODEL_FORMAT (not a loadable model: truncated, garbage, written by a newer PyTorch,
 * not a regular file), TI_ERR_UNSUPPORTED (a .pt2 with a library built against LibTorch older
 * than 2.6; the message names the version), TI_ERR_DEVICE (device not present, or not the
 * kind a .pt2 was compiled for), TI_ERR_OUT_OF_MEMORY.
 */
TI_API ti_error_t *ti_model_load(const char *path, const ti_load_options_t *opts, ti_model_t **out);

/**
 * Loads a model (TorchScript or .pt2) from memory. The library copies what it needs: `data`
 * may be freed as soon as the call returns. A .pt2 is written to a private temporary file
 * (mode 0600 in $TMPDIR or /tmp) for LibTorch's loader and removed before the call returns.
 * Errors: as ti_model_load, without TI_ERR_NOT_FOUND.
 */
TI_API ti_error_t *ti_model_load_buffer(const void *data, size_t len, const ti_load_options_t *opts,
                                        ti_model_t **out);

/** Frees a model. Accepts NULL. Output tensors obtained from it stay valid. */
TI_API void ti_model_free(ti_model_t *m);

/**
 * Runs the model's `forward` with positional inputs in schema order. Trailing arguments that
 * have defaults may be left out. Inputs are moved to the model's device; the caller keeps
 * ownership of them. An argument declared `int`, `float` or `bool` takes a one-element tensor.
 * The caller owns `*out` (ti_outputs_free). Safe to call from many threads at once.
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL model/out/input, wrong input count, an input whose
 * kind does not fit the argument), TI_ERR_RUNTIME (raised by the model: op dtype/shape
 * mismatches, `raise` in TorchScript), TI_ERR_OUT_OF_MEMORY, TI_ERR_UNSUPPORTED (a result leaf
 * that is not a tensor, int, float or bool), TI_ERR_DEVICE.
 * For a .pt2 package every input is checked against the package's input spec before its
 * compiled code runs: dtype, rank, static sizes, the range of each dynamic size, and sizes
 * that the export tied together (a shared batch dimension); a mismatch is
 * TI_ERR_INVALID_ARGUMENT naming the input and what was expected.
 */
TI_API ti_error_t *ti_model_predict(ti_model_t *m, const ti_tensor_t *const *inputs, size_t n_inputs,
                                    ti_outputs_t **out);

/**
 * Runs `forward` with inputs matched to the schema's argument names, in any order.
 * Arguments with defaults may be omitted. Errors: as ti_model_predict; unknown, duplicate or
 * missing names are TI_ERR_INVALID_ARGUMENT with a message listing the valid names.
 */
TI_API ti_error_t *ti_model_predict_named(ti_model_t *m, const char *const *names,
                                          const ti_tensor_t *const *inputs, size_t n_inputs,
                                          ti_outputs_t **out);

/**
 * Runs another method (one exported with @torch.jit.export, or "forward") with positional inputs.
 * Errors: as ti_model_predict, plus TI_ERR_NOT_FOUND when the model has no such method.
 */
TI_API ti_error_t *ti_model_run_method(ti_model_t *m, const char *method,
                                       const ti_tensor_t *const *inputs, size_t n_inputs,
                                       ti_outputs_t **out);

/**
 * Runs another method with inputs matched to its argument names, in any order (see
 * ti_model_predict_named). Errors: as ti_model_predict_named, plus TI_ERR_NOT_FOUND when the
 * model has no such method.
 */
TI_API ti_error_t *ti_model_run_method_named(ti_model_t *m, const char *method,
                                             const char *const *names,
                                             const ti_tensor_t *const *inputs, size_t n_inputs,
                                             ti_outputs_t **out);

/* ------------------------------------------------------------------------ */
/* Run options: timeouts and cancellation                                    */
/* ------------------------------------------------------------------------ */
/*
 * A run options object carries a timeout and a cancel switch for ti_model_run. One object may
 * be shared by any number of concurrent calls: cancelling it stops them all, and every later
 * call that uses it fails at once (cancellation is sticky; create a new object per request).
 * It must outlive the calls that use it.
 *
 * Where a call stops:
 *  - TorchScript: at the next operator boundary (each ATen operator the interpreter or a
 *    composite operator dispatches checks the switch and the deadline first), so a call
 *    returns within about one operator's time. A single long operator (one huge matmul) runs
 *    to its end; pure-TorchScript scalar code between operators is not interrupted.
 *  - AOTInductor .pt2: compiled code has no operator boundaries to stop at, so the switch and
 *    the deadline are checked before the compiled code starts; a started .pt2 call runs to
 *    its end and then reports TI_ERR_CANCELLED / TI_ERR_DEADLINE_EXCEEDED if it was
 *    cancelled or ran past its deadline meanwhile (its outputs are discarded).
 * A stopped call returns no outputs, leaks nothing and leaves the model usable; the caller's
 * tensors are untouched. A call without options costs exactly what it costs through the
 * shorthands; a TorchScript call with options pays one check per operator (see the README's
 * benchmark table). Results are bit-identical with and without options.
 */

/** A new run options object with no timeout, not cancelled. NULL only if out of memory. */
TI_API ti_run_options_t *ti_run_options_create(void);

/** Frees run options. Accepts NULL. No call using `o` may still be running. */
TI_API void ti_run_options_free(ti_run_options_t *o);

/**
 * Fails a call that runs longer than `us` microseconds from its own start with
 * TI_ERR_DEADLINE_EXCEEDED; 0 = no timeout (the default). Applies to calls started later.
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL, or `us` negative).
 */
TI_API ti_error_t *ti_run_options_set_timeout_us(ti_run_options_t *o, int64_t us);

/**
 * Cancels: every running call using `o` and every later one fails with TI_ERR_CANCELLED.
 * Thread-safe and async-signal-safe (one atomic store); may be called at any time, from any
 * thread, any number of times. Accepts NULL (does nothing).
 */
TI_API void ti_run_options_cancel(ti_run_options_t *o);

/**
 * The general call, of which ti_model_predict, ti_model_predict_named, ti_model_run_method and
 * ti_model_run_method_named are shorthands. `method` NULL runs forward; `names` NULL passes the
 * inputs positionally, otherwise `names[i]` names `inputs[i]`; `opts` NULL means no timeout
 * and no cancellation (exactly the shorthands' behaviour and cost).
 * Errors: as ti_model_run_method_named, plus TI_ERR_CANCELLED (the message says how long the
 * call had run, "cancelled after 12.3 ms") and TI_ERR_DEADLINE_EXCEEDED ("timeout 5 ms
 * exceeded after 5.1 ms").
 */
TI_API ti_error_t *ti_model_run(ti_model_t *m, const char *method, const char *const *names,
                                const ti_tensor_t *const *inputs, size_t n_inputs,
                                const ti_run_options_t *opts, ti_outputs_t **out);

/*
 * Introspection. For a .pt2 package: the methods are the package's models, the default one
 * ("model") listed and run as "forward" ("model" is accepted as a name for it too); inputs are
 * the exported program's tensor inputs in its flattened order, named by position ("0", "1")
 * for positional arguments and by keyword for keyword arguments (a package does not record
 * the Python names of positional arguments: export with kwargs to name them). A .pt2 input has
 * no default, and non-tensor arguments fixed at export time are not inputs.
 */

/** The number of arguments of `forward`, not counting `self` (0 for NULL). */
TI_API size_t ti_model_input_count(const ti_model_t *m);

/** The name of `forward`'s argument `i` (a view valid until `m` is freed); NULL if out of range. */
TI_API const char *ti_model_input_name(const ti_model_t *m, size_t i);

/**
 * The declared type of `forward`'s argument `i`, for display (a view valid until `m` is freed):
 * a TorchScript annotation ("Tensor", "Optional[Tensor]", "int"), or for a .pt2 input its
 * dtype and sizes with dynamic sizes as symbols ("Tensor(float32, [s0, 8])"). NULL if out of range.
 */
TI_API const char *ti_model_input_type(const ti_model_t *m, size_t i);

/** The number of methods the model can run (0 for NULL). */
TI_API size_t ti_model_method_count(const ti_model_t *m);

/** The name of method `i`, sorted by name (a view valid until `m` is freed); NULL if out of range. */
TI_API const char *ti_model_method_name(const ti_model_t *m, size_t i);

/** The device the model lives on, "cpu" or "cuda:N" (a view valid until `m` is freed; "" for NULL). */
TI_API const char *ti_model_device(const ti_model_t *m);

/** The model's format: "torchscript" or "aotinductor" (static storage; "" for NULL). */
TI_API const char *ti_model_format(const ti_model_t *m);

/**
 * The schema of `method` (NULL: forward) as LibTorch prints it, without `self`:
 * "forward(Tensor[] images, Dict(str, Tensor)[]? targets=None) -> ((Dict(str, Tensor), Dict(str, Tensor)[]))".
 * For a .pt2 package, a signature made from the package's input and output specs. A view valid
 * until `m` is freed; NULL for a NULL model or an unknown method.
 */
TI_API const char *ti_model_method_schema(const ti_model_t *m, const char *method);

/**
 * Loads a shared library that registers TorchScript operators (torchvision's _C extension,
 * torchaudio, torch-scatter, your own), as torch.ops.load_library does in Python. Load it
 * before the models that use its operators. A loaded library stays loaded for the life of the
 * process; loading the same file again does nothing. Thread-safe. A library built against
 * another LibTorch than the one this library links will not work: build it for the same one.
 * A model whose operators are not registered fails to load with TI_ERR_MODEL_FORMAT naming the
 * operator ("unknown operator torchvision::nms: load its library with ti_op_library_load").
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL path), TI_ERR_NOT_FOUND (no such file),
 * TI_ERR_RUNTIME (the loader refused it; the message is the loader's).
 */
TI_API ti_error_t *ti_op_library_load(const char *path);

/* ------------------------------------------------------------------------ */
/* Structured inputs: any argument type, set by path                         */
/* ------------------------------------------------------------------------ */
/*
 * A ti_inputs_t holds the arguments of one call of one method, built from the method's schema:
 * lists, tuples, dicts, Optional, str, int, float, bool and tensors, nested to any depth.
 *
 * Paths. Segments joined by "."; the first is the argument's name or its position in decimal
 * ("images", "0"); then a list or tuple index in decimal, or a dict key: a str key as its text,
 * an int key in decimal ("by_id.-1"), a bool key "True" / "False". Inside a segment "\." is a
 * literal dot and "\\" a backslash. Optional[T] adds no segment. Output leaf names use the
 * same grammar and escaping (a result dict key "p.q" is the leaf "4.p\.q").
 *   images.0            the first tensor of `List[Tensor] images`
 *   batch.input_ids     the "input_ids" entry of `Dict[str, Tensor] batch`
 *   pairs.1.0           the first element of the second tuple of `List[Tuple[Tensor, Tensor]]`
 *
 * Every value is built from the declared type, never guessed from what was set: an empty list
 * has the declared element type, a tuple is a tuple whatever its length, a dict has the
 * declared key and value types.
 *
 * Set-time checks (each TI_ERR_INVALID_ARGUMENT naming the path and the declared type): an
 * unknown argument (the message lists the valid ones); a segment that does not fit (an index
 * past a tuple's arity, a non-decimal index, a key that does not parse as the dict's key type,
 * a path below a Tensor, int or str); a value that does not fit (a string for a Tensor, a
 * tensor for a Dict, None where the type is not Optional, empty for a non-container, a string
 * that is not valid UTF-8). An argument declared int, float or bool also takes a one-element
 * tensor. Setting a path again replaces its value (and everything below it); a failed set
 * leaves the object unchanged and usable.
 * Run-time checks (TI_ERR_INVALID_ARGUMENT naming the path): a list with a gap ("pairs" has 0
 * and 2 but not 1), a tuple with a missing element, a required argument not set. An argument
 * not set takes its default.
 *
 * Threads. Setters are not synchronised. Once set, any number of threads may pass one inputs
 * object to ti_model_run_inputs at once (it only reads it).
 */

/**
 * New, empty arguments for `method` of `m` (NULL: forward). The object refers to `m`, which
 * must outlive it. The caller owns `*out` (ti_inputs_free). Counts in ti_live_handles.
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL m or out), TI_ERR_NOT_FOUND (no such method).
 */
TI_API ti_error_t *ti_inputs_create(const ti_model_t *m, const char *method, ti_inputs_t **out);

/** Frees inputs. Accepts NULL. Tensors set into it are released (see ti_inputs_set_tensor). */
TI_API void ti_inputs_free(ti_inputs_t *in);

/**
 * Sets the tensor at `path`. The inputs keep their own reference: the caller may free `t` at
 * once (a wrapped tensor's release runs when neither needs it). The caller's data is never
 * modified: a method that writes to an argument gets a private copy.
 * Errors: TI_ERR_INVALID_ARGUMENT (see the set-time checks above).
 */
TI_API ti_error_t *ti_inputs_set_tensor(ti_inputs_t *in, const char *path, const ti_tensor_t *t);

/**
 * Sets an int where the declared type is int, float (converted; exact up to 2^53) or Scalar.
 * Errors: as ti_inputs_set_tensor.
 */
TI_API ti_error_t *ti_inputs_set_int(ti_inputs_t *in, const char *path, int64_t v);

/** Sets a float where the declared type is float or Scalar. Errors: as ti_inputs_set_tensor. */
TI_API ti_error_t *ti_inputs_set_float(ti_inputs_t *in, const char *path, double v);

/** Sets a bool (any nonzero `v` is True) where the declared type is bool. Errors: as ti_inputs_set_tensor. */
TI_API ti_error_t *ti_inputs_set_bool(ti_inputs_t *in, const char *path, int v);

/**
 * Sets a str from `len` bytes of UTF-8 at `data` (copied; NUL bytes inside are kept; `data`
 * may be NULL only when len is 0). Errors: as ti_inputs_set_tensor, and for invalid UTF-8.
 */
TI_API ti_error_t *ti_inputs_set_string(ti_inputs_t *in, const char *path, const char *data, size_t len);

/** Sets None where the declared type is Optional[...]. Errors: as ti_inputs_set_tensor. */
TI_API ti_error_t *ti_inputs_set_none(ti_inputs_t *in, const char *path);

/** Sets an empty list or dict where the declared type is one. Errors: as ti_inputs_set_tensor. */
TI_API ti_error_t *ti_inputs_set_empty(ti_inputs_t *in, const char *path);

/**
 * Runs the method `in` was made for with its arguments. `in` must come from `m`. `opts` is as
 * for ti_model_run (timeouts and cancellation, NULL for none); private copies of arguments the
 * method writes to and copies of results that share the module's state, exactly as
 * ti_model_run. The caller owns `*out` (ti_outputs_free). Any number of threads may run with
 * one inputs object at once.
 * Errors: as ti_model_run, plus TI_ERR_INVALID_ARGUMENT for the run-time checks above and for
 * inputs made from another model.
 */
TI_API ti_error_t *ti_model_run_inputs(ti_model_t *m, const ti_inputs_t *in, const ti_run_options_t *opts,
                                       ti_outputs_t **out);

/* ------------------------------------------------------------------------ */
/* Dynamic batching                                                          */
/* ------------------------------------------------------------------------ */
/*
 * A batcher lets many threads call a method with a few rows each (batch-1 traffic from a
 * service's request threads) and runs them as one call on the concatenated rows, in library
 * threads ("workers"). Dimension 0 of every input is the batch dimension.
 *
 * Each request's outputs are what ti_model_run would return for its inputs alone: the same
 * leaves with the same names, holding its own rows. Batched kernels may round differently from
 * a call with fewer rows (float reassociation: about 1e-5 relative on float32).
 *
 * Forming batches: a worker takes the oldest queued request and adds queued requests with the
 * same input names, dtypes, devices and sizes (except dimension 0), up to max_batch rows. With
 * max_delay_us > 0 it waits up to that long from the oldest request's arrival for more rows;
 * with 0 it takes what queued while the previous batch ran. Requests are never padded; a
 * request with more than max_batch rows runs alone.
 *
 * Splitting: every result leaf whose dimension 0 equals the batch's rows is split back by rows
 * (views of the batched result). If a leaf cannot be split (a scalar, another first dimension,
 * a string) or the batched call fails, the batch's requests run again one by one, so each gets
 * its own result or error. After a result that cannot be split the batcher stops batching
 * (every later request runs alone) and says so once on stderr.
 *
 * Run options per request: a request cancelled or past its deadline while queued leaves the
 * queue and its caller returns at once (TI_ERR_CANCELLED / TI_ERR_DEADLINE_EXCEEDED); if its
 * batch is already running its caller returns at once with that code, its rows are dropped,
 * and the batch runs on for the others (it is stopped only when all its requests are).
 *
 * Threads: workers apply the library's thread settings like any call. On the CPU keep workers
 * x intra-op threads (ti_set_num_threads) <= cores.
 */

/** New batcher options with defaults (max_batch 32, max_delay_us 0, max_queue 1024, workers 1). NULL only if out of memory. */
TI_API ti_batcher_options_t *ti_batcher_options_create(void);

/** Frees batcher options. Accepts NULL. Batchers made with them do not depend on them. */
TI_API void ti_batcher_options_free(ti_batcher_options_t *o);

/** The most rows in one batch (>= 1; default 32). Errors: TI_ERR_INVALID_ARGUMENT (NULL, rows < 1). */
TI_API ti_error_t *ti_batcher_options_set_max_batch(ti_batcher_options_t *o, int64_t rows);

/**
 * How long a worker waits, from the oldest queued request's arrival, for more rows before it
 * runs a batch that is not full (0..10,000,000 µs; default 0: no waiting).
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL, out of range).
 */
TI_API ti_error_t *ti_batcher_options_set_max_delay_us(ti_batcher_options_t *o, int64_t us);

/** The most queued requests; one more is refused with TI_ERR_UNAVAILABLE (>= 1; default 1024). Errors: TI_ERR_INVALID_ARGUMENT. */
TI_API ti_error_t *ti_batcher_options_set_max_queue(ti_batcher_options_t *o, int64_t requests);

/** The number of worker threads running batches at once (1..256; default 1). Errors: TI_ERR_INVALID_ARGUMENT. */
TI_API ti_error_t *ti_batcher_options_set_workers(ti_batcher_options_t *o, int n);

/**
 * Starts a batcher for `method` (NULL: forward) of `m`, with `o` (NULL: defaults). The model must
 * outlive the batcher. The caller owns `*out` (ti_batcher_free). Counts in ti_live_handles.
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL m or out; a .pt2 input whose batch dimension is static,
 * named in the message; a method without tensor arguments), TI_ERR_NOT_FOUND (no such method).
 */
TI_API ti_error_t *ti_batcher_create(ti_model_t *m, const char *method, const ti_batcher_options_t *o,
                                     ti_batcher_t **out);

/**
 * Stops a batcher: new requests are refused, every queued request fails with
 * TI_ERR_UNAVAILABLE, running batches finish, and the workers are joined. Accepts NULL. Must not
 * race with ti_batcher_run on the same batcher being called after it starts.
 */
TI_API void ti_batcher_free(ti_batcher_t *b);

/**
 * Queues one request and blocks until its outputs are ready. `inputs` are tensors (positional,
 * or named by `names` when it is not NULL) whose dimension 0 is the batch dimension (>= 1 rows);
 * the caller keeps ownership of them and may free them when the call returns. `opts` as for
 * ti_model_run. Thread-safe: any number of threads may call it at once. The caller owns `*out`.
 * Errors: as ti_model_run, plus TI_ERR_INVALID_ARGUMENT (an input without a batch dimension,
 * inputs with different row counts), TI_ERR_UNAVAILABLE (the queue is full, or the batcher is
 * being freed).
 */
TI_API ti_error_t *ti_batcher_run(ti_batcher_t *b, const char *const *names, const ti_tensor_t *const *inputs,
                                  size_t n_inputs, const ti_run_options_t *opts, ti_outputs_t **out);

/**
 * Counters since the batcher started: requests answered (with outputs or an error) and
 * model calls made for them (batched or single); requests / batches is the mean batch size in
 * requests. Either pointer may be NULL. Thread-safe. Zeros for a NULL batcher.
 */
TI_API void ti_batcher_stats(const ti_batcher_t *b, int64_t *requests, int64_t *batches);

/* ------------------------------------------------------------------------ */
/* Outputs                                                                   */
/* ------------------------------------------------------------------------ */
/*
 * A result is flattened depth first into leaves. Tuple and list elements are named by their
 * index, dict entries by their key, nested names joined by "." ("1.0", "boxes.2"); a bare
 * tensor is one leaf named "0". Names use the path grammar of structured inputs: a "." or "\\"
 * inside a dict key is escaped ("4.p\\.q"). int, float and bool results become 0-dim int64,
 * float64 and bool tensors (TI_KIND_TENSOR); a str is a TI_KIND_STRING leaf and a None a
 * TI_KIND_NONE leaf. An empty list, tuple or dict gives no leaf. Leaves stay on the model's
 * device. The tensor accessors below return their neutral values for a leaf that is not a
 * tensor, and ti_outputs_get / ti_outputs_find / ti_outputs_copy_to fail with
 * TI_ERR_INVALID_ARGUMENT naming its kind.
 */

/** Leaf `i`'s kind; TI_KIND_NONE when `o` is NULL or `i` out of range. */
TI_API ti_kind_t ti_outputs_kind(const ti_outputs_t *o, size_t i);

/**
 * A view of string leaf `i`'s UTF-8 bytes (`*data`, `*len` bytes, followed by a NUL that is not
 * counted; NUL bytes inside are kept), valid until `o` is freed.
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL argument, i out of range, or a leaf that is not a string).
 */
TI_API ti_error_t *ti_outputs_string(const ti_outputs_t *o, size_t i, const char **data, size_t *len);

/** The number of leaves (0 for NULL). */
TI_API size_t ti_outputs_count(const ti_outputs_t *o);

/** The name of leaf `i` (a view valid until `o` is freed); NULL if out of range. */
TI_API const char *ti_outputs_name(const ti_outputs_t *o, size_t i);

/**
 * A new handle on leaf `i`, owned by the caller (ti_tensor_free). It shares the data without
 * copying and may outlive both the outputs and the model.
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL argument, i out of range).
 */
TI_API ti_error_t *ti_outputs_get(const ti_outputs_t *o, size_t i, ti_tensor_t **out);

/**
 * As ti_outputs_get, for the leaf called `name`.
 * Errors: TI_ERR_INVALID_ARGUMENT (NULL argument), TI_ERR_NOT_FOUND (no such leaf; the message
 * lists the names).
 */
TI_API ti_error_t *ti_outputs_find(const ti_outputs_t *o, const char *name, ti_tensor_t **out);

/*
 * Reading a leaf without a tensor handle: one call each, for bindings that copy results into
 * their own memory (no allocation, no handle to free).
 */

/** Leaf `i`'s element type; TI_DTYPE_FLOAT32 when `o` is NULL or `i` out of range. */
TI_API ti_dtype_t ti_outputs_dtype(const ti_outputs_t *o, size_t i);

/** Leaf `i`'s number of dimensions (0 for a scalar, and when `o` is NULL or `i` out of range). */
TI_API size_t ti_outputs_ndim(const ti_outputs_t *o, size_t i);

/** Leaf `i`'s sizes (a view valid until `o` is freed; NULL for 0 dims or out of range). */
TI_API const int64_t *ti_outputs_shape(const ti_outputs_t *o, size_t i);

/** Leaf `i`'s size in bytes (0 when `o` is NULL or `i` out of range). */
TI_API size_t ti_outputs_nbytes(const ti_outputs_t *o, size_t i);

/**
 * Copies leaf `i`'s data (row-major) into `dst`, as ti_tensor_copy_to does for a tensor, from
 * any device. Errors: TI_ERR_INVALID_ARGUMENT (NULL argument, i out of range, or dst_nbytes !=
 * ti_outputs_nbytes(o, i)), TI_ERR_RUNTIME (a device copy failed).
 */
TI_API ti_error_t *ti_outputs_copy_to(const ti_outputs_t *o, size_t i, void *dst, size_t dst_nbytes);

/** Frees an outputs set. Accepts NULL. Tensors obtained from it stay valid. */
TI_API void ti_outputs_free(ti_outputs_t *o);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TORCHINFER_H */
