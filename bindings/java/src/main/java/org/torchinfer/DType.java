package org.torchinfer;

/** Element types of a {@link Tensor}; the same values as the C {@code ti_dtype_t}. */
public enum DType {
  /** 32-bit IEEE float; Java {@code float[]}. */
  FLOAT32(0, 4),
  /** 64-bit IEEE float; Java {@code double[]}. */
  FLOAT64(1, 8),
  /** IEEE binary16, as raw 16-bit patterns in a Java {@code short[]}. */
  FLOAT16(2, 2),
  /** bfloat16, as raw 16-bit patterns in a Java {@code short[]}. */
  BFLOAT16(3, 2),
  /** Signed 8-bit integer; Java {@code byte[]}. */
  INT8(4, 1),
  /** Unsigned 8-bit integer; Java {@code byte[]} (read with {@code b & 0xff}). */
  UINT8(5, 1),
  /** Signed 16-bit integer; Java {@code short[]}. */
  INT16(6, 2),
  /** Signed 32-bit integer; Java {@code int[]}. */
  INT32(7, 4),
  /** Signed 64-bit integer; Java {@code long[]}. */
  INT64(8, 8),
  /** One byte per element, 0 or 1; Java {@code boolean[]}. */
  BOOL(9, 1);

  private final int value;
  private final int size;

  DType(int value, int size) {
    this.value = value;
    this.size = size;
  }

  private static final DType[] VALUES = values(); // values() clones on every call

  /** The C value ({@code TI_DTYPE_*}). */
  public int value() {
    return value;
  }

  /** Bytes per element. */
  public int byteSize() {
    return size;
  }

  /** The C library's lowercase name: "float32", "bfloat16", "bool", ... */
  public String cName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The dtype for a C value. */
  public static DType of(int value) {
    DType[] all = VALUES;
    if (value < 0 || value >= all.length) {
      throw new TorchInferException(TorchInferException.Code.INTERNAL,
          "unknown dtype value " + value + " returned by the library");
    }
    return all[value];
  }

  /** The dtype called {@code name} in the C library's spelling ("float32", "int64", ...). */
  public static DType fromName(String name) {
    return valueOf(name.toUpperCase(java.util.Locale.ROOT));
  }
}
