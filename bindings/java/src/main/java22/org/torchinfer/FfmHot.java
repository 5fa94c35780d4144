package org.torchinfer;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import com.sun.jna.Pointer;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The hot calls through the Foreign Function &amp; Memory API (JDK 22+): downcall handles on the
 * functions of the library JNA loaded (their addresses come from JNA, so the library is found
 * once, the same way). Pointers and size_t travel as JAVA_LONG (LP64). The accessors that only
 * read a handle's fields (dtype, numel, data pointer) are "critical" downcalls: no thread-state
 * transition. Everything that may run long (a prediction, a device copy, a free that reaches a
 * CUDA allocator) is an ordinary downcall, so the GC and safepoints are never held up by it.
 */
final class FfmHot implements Hot {
  private static final MethodHandle PREDICT;
  private static final MethodHandle OUTPUTS_DTYPE;
  private static final MethodHandle OUTPUTS_COPY_TO;
  private static final MethodHandle OUTPUTS_GET;
  private static final MethodHandle OUTPUTS_FREE;
  private static final MethodHandle TENSOR_FREE;
  private static final MethodHandle TENSOR_DATA;
  private static final MethodHandle TENSOR_DTYPE;
  private static final MethodHandle TENSOR_NUMEL;

  static {
    Linker.Option critical = Linker.Option.critical(false);
    PREDICT = handle("ti_model_predict", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    OUTPUTS_DTYPE = handle("ti_outputs_dtype", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), critical);
    OUTPUTS_COPY_TO = handle("ti_outputs_copy_to", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    OUTPUTS_GET = handle("ti_outputs_get", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    OUTPUTS_FREE = handle("ti_outputs_free", FunctionDescriptor.ofVoid(JAVA_LONG));
    TENSOR_FREE = handle("ti_tensor_free", FunctionDescriptor.ofVoid(JAVA_LONG));
    TENSOR_DATA = handle("ti_tensor_data", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG), critical);
    TENSOR_DTYPE = handle("ti_tensor_dtype", FunctionDescriptor.of(JAVA_INT, JAVA_LONG), critical);
    TENSOR_NUMEL = handle("ti_tensor_numel", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG), critical);
  }

  private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... options) {
    long address = Pointer.nativeValue(NativeApi.LIBRARY.getFunction(name));
    return Linker.nativeLinker().downcallHandle(MemorySegment.ofAddress(address), fd, options);
  }

  private static AssertionError unexpected(Throwable t) {
    return new AssertionError("downcall failed", t);
  }

  @Override
  public String name() {
    return "ffm";
  }

  @Override
  public long ti_model_predict(long m, long inputs, long n, long out) {
    try {
      return (long) PREDICT.invokeExact(m, inputs, n, out);
    } catch (Throwable t) {
      throw unexpected(t);
    }
  }

  @Override
  public int ti_outputs_dtype(long o, long i) {
    try {
      return (int) OUTPUTS_DTYPE.invokeExact(o, i);
    } catch (Throwable t) {
      throw unexpected(t);
    }
  }

  @Override
  public long ti_outputs_copy_to(long o, long i, long dst, long nbytes) {
    try {
      return (long) OUTPUTS_COPY_TO.invokeExact(o, i, dst, nbytes);
    } catch (Throwable t) {
      throw unexpected(t);
    }
  }

  @Override
  public long ti_outputs_get(long o, long i, long out) {
    try {
      return (long) OUTPUTS_GET.invokeExact(o, i, out);
    } catch (Throwable t) {
      throw unexpected(t);
    }
  }

  @Override
  public void ti_outputs_free(long o) {
    try {
      OUTPUTS_FREE.invokeExact(o);
    } catch (Throwable t) {
      throw unexpected(t);
    }
  }

  @Override
  public void ti_tensor_free(long t) {
    try {
      TENSOR_FREE.invokeExact(t);
    } catch (Throwable e) {
      throw unexpected(e);
    }
  }

  @Override
  public long ti_tensor_data(long t, long out) {
    try {
      return (long) TENSOR_DATA.invokeExact(t, out);
    } catch (Throwable e) {
      throw unexpected(e);
    }
  }

  @Override
  public int ti_tensor_dtype(long t) {
    try {
      return (int) TENSOR_DTYPE.invokeExact(t);
    } catch (Throwable e) {
      throw unexpected(e);
    }
  }

  @Override
  public long ti_tensor_numel(long t) {
    try {
      return (long) TENSOR_NUMEL.invokeExact(t);
    } catch (Throwable e) {
      throw unexpected(e);
    }
  }
}
