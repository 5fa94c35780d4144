// Sanitizer settings compiled into the test binary of a TI_SANITIZE build, so that ctest,
// a debugger or a plain shell all run the tests the same way.

extern "C" {

// allocator_may_return_null: the out-of-memory test asks for 4 PB, which must fail like a real
// allocation failure instead of aborting the process.
// fast_unwind_on_malloc=0: LibTorch is built without frame pointers; full unwinding gives
// complete allocation stacks, so the suppressions below can name LibTorch functions precisely.
const char* __asan_default_options() {
  return "allocator_may_return_null=1:fast_unwind_on_malloc=0:detect_leaks=1:strict_string_checks=1";
}

const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

// Only frames inside LibTorch are suppressed.
//
// LibTorch 1.13 and 2.15: caffe2::serialize::PyTorchStreamReader::init() throws when it rejects an
// archive (truncated, or written by a newer PyTorch) after mz_zip_reader_init has allocated the
// zip reader's state. The constructor never completes, so the destructor that would free that
// state never runs: about 1 KB lost inside LibTorch per rejected archive. The tests load such
// archives on purpose (TI_ERR_MODEL_FORMAT).
const char* __lsan_default_suppressions() {
  return "leak:caffe2::serialize::PyTorchStreamReader::init\n";
}

}  // extern "C"
