package org.torchinfer;

/** Conversions between tensors and double[] for comparing with reference.json. */
final class Values {
  private Values() {}

  /** Makes a tensor of {@code dtype} from reference values. */
  static Tensor tensor(DType dtype, double[] v, long[] shape) {
    int n = v.length;
    switch (dtype) {
      case FLOAT32: {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) v[i];
        return Tensor.of(a, shape);
      }
      case FLOAT64:
        return Tensor.of(v.clone(), shape);
      case FLOAT16:
      case BFLOAT16: {
        short[] a = new short[n];
        for (int i = 0; i < n; i++) {
          a[i] = dtype == DType.FLOAT16 ? Half.floatToF16((float) v[i]) : Half.floatToBf16((float) v[i]);
        }
        return Tensor.of(dtype, a, shape);
      }
      case INT8:
      case UINT8:
      case BOOL: {
        byte[] a = new byte[n];
        for (int i = 0; i < n; i++) a[i] = (byte) (long) v[i];
        return Tensor.of(dtype, a, shape);
      }
      case INT16: {
        short[] a = new short[n];
        for (int i = 0; i < n; i++) a[i] = (short) v[i];
        return Tensor.of(a, shape);
      }
      case INT32: {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = (int) v[i];
        return Tensor.of(a, shape);
      }
      case INT64: {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) a[i] = (long) v[i];
        return Tensor.of(a, shape);
      }
      default:
        throw new AssertionError(dtype);
    }
  }

  /** Reads any tensor as doubles, through the accessor its dtype requires. */
  static double[] doubles(Tensor t) {
    double[] out;
    switch (t.dtype()) {
      case FLOAT32: {
        float[] a = t.toFloatArray();
        out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
      }
      case FLOAT64:
        return t.toDoubleArray();
      case FLOAT16:
      case BFLOAT16: {
        short[] a = t.toShortArray();
        out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
          out[i] = t.dtype() == DType.FLOAT16 ? Half.f16ToFloat(a[i]) : Half.bf16ToFloat(a[i]);
        }
        return out;
      }
      case INT8: {
        byte[] a = t.toByteArray();
        out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
      }
      case UINT8: {
        byte[] a = t.toByteArray();
        out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] & 0xff;
        return out;
      }
      case BOOL: {
        boolean[] a = t.toBooleanArray();
        out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] ? 1 : 0;
        return out;
      }
      case INT16: {
        short[] a = t.toShortArray();
        out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
      }
      case INT32: {
        int[] a = t.toIntArray();
        out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
      }
      case INT64: {
        long[] a = t.toLongArray();
        out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
      }
      default:
        throw new AssertionError(t.dtype());
    }
  }

  /** Float tolerance of reference.json: relative 1e-5, absolute 1e-6. */
  static boolean close(double expected, double actual) {
    if (Double.isNaN(expected)) return Double.isNaN(actual);
    if (expected == actual) return true;
    return Math.abs(expected - actual) <= 1e-6 + 1e-5 * Math.abs(expected);
  }
}
