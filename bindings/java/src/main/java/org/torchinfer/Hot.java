package org.torchinfer;

/**
 * The native calls on the hot path of a prediction (predict, reading a leaf, freeing), behind
 * one interface so that a JDK 22+ can make them through the Foreign Function &amp; Memory API,
 * whose downcalls cost a fraction of JNA's; every other call goes through JNA
 * ({@link NativeApi}). Arguments and results are those of the C functions, pointers as longs.
 *
 * <p>{@link #select()} picks {@code FfmHot} (in the jar's {@code META-INF/versions/22}) on a
 * JDK 22+ unless {@code -Dtorchinfer.ffm=false}, and {@link JnaHot} otherwise or when FFM cannot
 * be set up. One implementation is loaded per process, so the JIT inlines the calls.
 */
interface Hot {
  /** "ffm" or "jna". */
  String name();

  long ti_model_predict(long m, long inputs, long n, long out);

  int ti_outputs_dtype(long o, long i);

  long ti_outputs_copy_to(long o, long i, long dst, long nbytes);

  long ti_outputs_get(long o, long i, long out);

  void ti_outputs_free(long o);

  void ti_tensor_free(long t);

  long ti_tensor_data(long t, long out);

  int ti_tensor_dtype(long t);

  long ti_tensor_numel(long t);

  /** The calls through JNA direct mapping (the methods of {@link NativeApi}). */
  final class JnaHot implements Hot {
    @Override
    public String name() {
      return "jna";
    }

    @Override
    public long ti_model_predict(long m, long inputs, long n, long out) {
      return NativeApi.ti_model_predict(m, inputs, n, out);
    }

    @Override
    public int ti_outputs_dtype(long o, long i) {
      return NativeApi.ti_outputs_dtype(o, i);
    }

    @Override
    public long ti_outputs_copy_to(long o, long i, long dst, long nbytes) {
      return NativeApi.ti_outputs_copy_to(o, i, dst, nbytes);
    }

    @Override
    public long ti_outputs_get(long o, long i, long out) {
      return NativeApi.ti_outputs_get(o, i, out);
    }

    @Override
    public void ti_outputs_free(long o) {
      NativeApi.ti_outputs_free(o);
    }

    @Override
    public void ti_tensor_free(long t) {
      NativeApi.ti_tensor_free(t);
    }

    @Override
    public long ti_tensor_data(long t, long out) {
      return NativeApi.ti_tensor_data(t, out);
    }

    @Override
    public int ti_tensor_dtype(long t) {
      return NativeApi.ti_tensor_dtype(t);
    }

    @Override
    public long ti_tensor_numel(long t) {
      return NativeApi.ti_tensor_numel(t);
    }
  }

  /** FFM on a JDK 22+ (unless -Dtorchinfer.ffm=false, or it cannot be set up), else JNA. */
  static Hot select() {
    if (Runtime.version().feature() >= 22 && !"false".equals(System.getProperty("torchinfer.ffm"))) {
      try {
        return (Hot) Class.forName("org.torchinfer.FfmHot").getDeclaredConstructor().newInstance();
      } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
        // a jar built without the JDK 22 part, or native access denied: JNA serves
        if (Boolean.getBoolean("torchinfer.ffm.debug")) {
          e.printStackTrace();
        }
      }
    }
    return new JnaHot();
  }
}
