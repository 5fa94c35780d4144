package org.torchinfer;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The C API of libtorchinfer, bound with JNA direct mapping ({@link Native#register}).
 *
 * <p>Internal: nothing outside this package calls it. Every handle ({@code ti_model_t *},
 * {@code ti_tensor_t *}, ...) is passed as a {@code long} holding the pointer value, every
 * {@code size_t} as a {@code long} and every {@code out} parameter as a {@code long[1]}: the
 * binding requires a 64-bit JVM. Out parameters, shape and input arrays are addresses in a
 * per-thread {@link Scratch} buffer, so the hot calls take only primitive arguments (JNA's
 * cheapest path: a Java array argument costs ~100 ns more per call). Strings going in are
 * NUL-terminated UTF-8 {@code byte[]}; strings coming out are {@code const char *} views read
 * with {@link #string(long)}.
 */
final class NativeApi {
  private NativeApi() {}

  /** The release callback of {@code ti_tensor_wrap}. */
  interface ReleaseCallback extends Callback {
    void invoke(Pointer ctx);
  }

  /** The loaded library (for {@link TorchInfer#libraryFile()}). */
  static final NativeLibrary LIBRARY;

  /*
   * Where the library comes from, first match wins:
   *   1. -Dtorchinfer.library=/abs/path/libtorchinfer.so (that file, nothing else);
   *   2. -Dtorchinfer.library.path=DIR (a directory for this library only);
   *   3. -Djna.library.path=DIR;
   *   4. the dynamic loader's paths (LD_LIBRARY_PATH, ld.so.cache: a system-wide install);
   *   5. the classpath: linux-x86-64/libtorchinfer.so in the natives jar
   *      (org.torchinfer:torchinfer:linux-x86_64), which JNA extracts to a temporary file.
   * 2 to 5 are JNA's own order; the class loader that loaded this class is the one searched.
   */
  static {
    if (Native.POINTER_SIZE != 8) {
      throw new UnsupportedOperationException("torchinfer needs a 64-bit JVM");
    }
    String explicit = System.getProperty("torchinfer.library");
    String name = explicit != null && !explicit.isEmpty() ? explicit : "torchinfer";
    String dir = System.getProperty("torchinfer.library.path");
    if (dir != null && !dir.isEmpty()) {
      NativeLibrary.addSearchPath("torchinfer", dir);
    }
    NativeLibrary lib;
    try {
      lib = NativeLibrary.getInstance(name, Map.of(Library.OPTION_CLASSLOADER,
          NativeApi.class.getClassLoader()));
    } catch (UnsatisfiedLinkError e) {
      UnsatisfiedLinkError err = new UnsatisfiedLinkError(
          "torchinfer: cannot load the native library '" + name + "' (libtorchinfer.so). Add the"
              + " natives jar to the classpath (org.torchinfer:torchinfer with classifier linux-x86_64 on"
              + " x86-64 Linux: the resource " + Platform.RESOURCE_PREFIX + "/libtorchinfer.so"
              + " was looked up), or point at the"
              + " library with -Dtorchinfer.library.path=<dir containing libtorchinfer.so> (or"
              + " -Djna.library.path=<dir>), or -Dtorchinfer.library=<absolute path of the"
              + " library>. If the file was found but its dependencies were not, LibTorch is not"
              + " where the library's RUNPATH points. Cause: " + e.getMessage());
      err.initCause(e);
      throw err;
    }
    Native.register(NativeApi.class, lib);
    LIBRARY = lib;
    HOT = Hot.select();
  }

  /** The hot-path calls: FFM on a JDK 22+, else these JNA methods (see {@link Hot}). */
  static final Hot HOT;

  // Errors
  static native int ti_error_code(long e);
  static native long ti_error_message(long e);
  static native void ti_error_free(long e);
  static native long ti_code_name(int code);

  // Runtime
  static native long ti_version();
  static native long ti_torch_version();
  static native long ti_set_num_threads(int n);
  static native int ti_get_num_threads();
  static native int ti_cuda_device_count();
  static native long ti_live_handles();

  // Data types
  static native long ti_dtype_size(int dtype);
  static native long ti_dtype_name(int dtype);

  // Tensors: one overload of ti_tensor_create per Java array type (all map to the same symbol).
  static native long ti_tensor_create(int dtype, long shape, long ndim, float[] data, long nbytes, long out);
  static native long ti_tensor_create(int dtype, long shape, long ndim, double[] data, long nbytes, long out);
  static native long ti_tensor_create(int dtype, long shape, long ndim, long[] data, long nbytes, long out);
  static native long ti_tensor_create(int dtype, long shape, long ndim, int[] data, long nbytes, long out);
  static native long ti_tensor_create(int dtype, long shape, long ndim, short[] data, long nbytes, long out);
  static native long ti_tensor_create(int dtype, long shape, long ndim, byte[] data, long nbytes, long out);
  static native long ti_tensor_create(int dtype, long shape, long ndim, long data, long nbytes, long out);
  static native long ti_tensor_wrap(int dtype, long shape, long ndim, long data, long nbytes,
      ReleaseCallback release, long ctx, long out);
  static native void ti_tensor_free(long t);
  static native int ti_tensor_dtype(long t);
  static native long ti_tensor_ndim(long t);
  static native long ti_tensor_shape(long t);
  static native long ti_tensor_numel(long t);
  static native long ti_tensor_nbytes(long t);
  static native long ti_tensor_device(long t);
  static native long ti_tensor_data(long t, long data);
  static native long ti_tensor_copy_to(long t, float[] dst, long nbytes);
  static native long ti_tensor_copy_to(long t, double[] dst, long nbytes);
  static native long ti_tensor_copy_to(long t, long[] dst, long nbytes);
  static native long ti_tensor_copy_to(long t, int[] dst, long nbytes);
  static native long ti_tensor_copy_to(long t, short[] dst, long nbytes);
  static native long ti_tensor_copy_to(long t, byte[] dst, long nbytes);

  // Load options
  static native long ti_load_options_create();
  static native void ti_load_options_free(long o);
  static native long ti_load_options_set_device(long o, byte[] device);
  static native long ti_load_options_set_allow_native_code(long o, int allow);

  // Models
  static native long ti_model_load(byte[] path, long opts, long out);
  static native long ti_model_load_buffer(byte[] data, long len, long opts, long out);
  static native void ti_model_free(long m);
  static native long ti_model_predict(long m, long inputs, long n, long out);
  static native long ti_model_predict_named(long m, long names, long inputs, long n, long out);
  static native long ti_model_run_method(long m, byte[] method, long inputs, long n, long out);
  static native long ti_model_run_method_named(long m, byte[] method, long names, long inputs, long n,
      long out);
  /** {@code method} null runs forward; {@code names} 0 passes the inputs positionally. */
  static native long ti_model_run(long m, byte[] method, long names, long inputs, long n, long opts,
      long out);
  static native long ti_model_input_count(long m);
  static native long ti_model_input_name(long m, long i);
  static native long ti_model_input_type(long m, long i);
  static native long ti_model_method_count(long m);
  static native long ti_model_method_name(long m, long i);
  static native long ti_model_device(long m);
  static native long ti_model_format(long m);
  /** {@code method} null: forward. A view valid until the model is freed; 0 for an unknown method. */
  static native long ti_model_method_schema(long m, byte[] method);
  static native long ti_op_library_load(byte[] path);

  // Structured inputs (paths are NUL-terminated UTF-8; a string value travels with its length)
  static native long ti_inputs_create(long m, byte[] method, long out);
  static native void ti_inputs_free(long in);
  static native long ti_inputs_set_tensor(long in, byte[] path, long t);
  static native long ti_inputs_set_int(long in, byte[] path, long v);
  static native long ti_inputs_set_float(long in, byte[] path, double v);
  static native long ti_inputs_set_bool(long in, byte[] path, int v);
  static native long ti_inputs_set_string(long in, byte[] path, byte[] data, long len);
  static native long ti_inputs_set_none(long in, byte[] path);
  static native long ti_inputs_set_empty(long in, byte[] path);
  static native long ti_model_run_inputs(long m, long in, long opts, long out);

  /**
   * The dynamic batcher's functions, registered when the binding first uses them (a
   * {@link Batcher} or its options) rather than with the rest: a library built without the
   * batcher then still serves everything else, and says which symbol is missing only to code
   * that asks for a batcher.
   */
  static final class Batching {
    private Batching() {}

    static {
      Native.register(Batching.class, LIBRARY);
    }

    static native long ti_batcher_options_create();
    static native void ti_batcher_options_free(long o);
    static native long ti_batcher_options_set_max_batch(long o, long rows);
    static native long ti_batcher_options_set_max_delay_us(long o, long us);
    static native long ti_batcher_options_set_max_queue(long o, long requests);
    static native long ti_batcher_options_set_workers(long o, int n);
    static native long ti_batcher_create(long m, byte[] method, long o, long out);
    static native void ti_batcher_free(long b);
    /** {@code names} 0 passes the inputs positionally. */
    static native long ti_batcher_run(long b, long names, long inputs, long n, long opts, long out);
    /** {@code requests} and {@code batches} are addresses of int64 slots (or 0). */
    static native void ti_batcher_stats(long b, long requests, long batches);
  }

  // Run options
  static native long ti_run_options_create();
  static native void ti_run_options_free(long o);
  static native long ti_run_options_set_timeout_us(long o, long us);
  static native void ti_run_options_cancel(long o);

  // Outputs
  static native int ti_outputs_kind(long o, long i);
  /** {@code data} and {@code len} are addresses of a pointer slot and a size_t slot. */
  static native long ti_outputs_string(long o, long i, long data, long len);
  static native long ti_outputs_count(long o);
  static native long ti_outputs_name(long o, long i);
  static native long ti_outputs_get(long o, long i, long out);
  static native long ti_outputs_find(long o, byte[] name, long out);
  static native void ti_outputs_free(long o);
  static native int ti_outputs_dtype(long o, long i);
  static native long ti_outputs_ndim(long o, long i);
  static native long ti_outputs_shape(long o, long i);
  static native long ti_outputs_nbytes(long o, long i);
  // ti_outputs_copy_to into native memory (an address), or into a Java array (larger leaves)
  static native long ti_outputs_copy_to(long o, long i, long dst, long nbytes);
  static native long ti_outputs_copy_to(long o, long i, float[] dst, long nbytes);
  static native long ti_outputs_copy_to(long o, long i, double[] dst, long nbytes);
  static native long ti_outputs_copy_to(long o, long i, long[] dst, long nbytes);
  static native long ti_outputs_copy_to(long o, long i, int[] dst, long nbytes);
  static native long ti_outputs_copy_to(long o, long i, short[] dst, long nbytes);
  static native long ti_outputs_copy_to(long o, long i, byte[] dst, long nbytes);

  /** Reads a NUL-terminated UTF-8 string the library owns; null for a NULL pointer. */
  static String string(long p) {
    return p == 0 ? null : new Pointer(p).getString(0, StandardCharsets.UTF_8.name());
  }

  /**
   * A NUL-terminated UTF-8 copy of {@code s}, which names {@code what} in the error.
   *
   * @throws TorchInferException INVALID_ARGUMENT when {@code s} contains a NUL character (C
   *     would see only the part before it: "probs\0x" would silently mean "probs")
   */
  static byte[] cstr(String s, String what) {
    requireNoNul(s, what);
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[utf8.length + 1];
    System.arraycopy(utf8, 0, out, 0, utf8.length);
    return out;
  }

  /** Rejects a string C would cut at an embedded NUL (see {@link #cstr(String, String)}). */
  static String requireNoNul(String s, String what) {
    int at = s.indexOf('\0');
    if (at >= 0) {
      throw new TorchInferException(TorchInferException.Code.INVALID_ARGUMENT,
          what + " contains a NUL character at index " + at + ": \"" + s.replace("\0", "\\0")
              + "\"");
    }
    return s;
  }

  /**
   * Turns a returned {@code ti_error_t *} into an exception: copies its code and message,
   * frees it at once, and throws. Does nothing for NULL (success).
   */
  static void check(long err) {
    if (err != 0) {
      throw take(err);
    }
  }

  /** Copies code and message out of {@code err}, frees it, and returns the exception. */
  static TorchInferException take(long err) {
    int code;
    String message;
    try {
      code = ti_error_code(err);
      message = string(ti_error_message(err));
    } finally {
      ti_error_free(err);
    }
    return new TorchInferException(TorchInferException.Code.of(code), message);
  }
}
