package org.torchinfer;

/**
 * A failure reported by libtorchinfer: a {@link Code} mirroring the C {@code ti_code_t} and the
 * library's message.
 *
 * <p>Unchecked on purpose: most failures are programming or model errors a caller cannot
 * recover from locally, and an unchecked exception works inside lambdas, streams and
 * {@code ExecutorService} tasks without wrapping. Callers that do recover (a model raising on
 * bad input, a missing file) catch it and switch on {@link #code()}.
 *
 * <p>Misuse of the Java objects themselves is reported with the standard exceptions instead:
 * {@link IllegalStateException} after {@code close()}, {@link NullPointerException} for null
 * arguments, {@link IllegalArgumentException} for a wrong element type in {@code toXxxArray()}
 * or a buffer {@code Tensor.wrap} cannot use. A string with an embedded NUL character (a name,
 * method, path or device) is {@link Code#INVALID_ARGUMENT}, like the other bad names the library
 * itself reports: C would see only the part before the NUL.
 */
public final class TorchInferException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The error codes of the C API ({@code ti_code_t}), in the same order. */
  public enum Code {
    /** {@code TI_OK}: never carried by an exception; listed to keep the numbering. */
    OK(0),
    /** {@code TI_ERR_INVALID_ARGUMENT}: bad counts, names, sizes, shapes or values. */
    INVALID_ARGUMENT(1),
    /** {@code TI_ERR_NOT_FOUND}: missing file, method or output name. */
    NOT_FOUND(2),
    /** {@code TI_ERR_MODEL_FORMAT}: not a TorchScript archive this LibTorch can load. */
    MODEL_FORMAT(3),
    /** {@code TI_ERR_RUNTIME}: raised while the model ran; the model stays usable. */
    RUNTIME(4),
    /** {@code TI_ERR_OUT_OF_MEMORY}: host or device allocation failed; the model stays usable. */
    OUT_OF_MEMORY(5),
    /** {@code TI_ERR_DEVICE}: the requested device is not present. */
    DEVICE(6),
    /**
     * {@code TI_ERR_UNSUPPORTED}: a value the C API cannot represent (an object result), a
     * device type other than cpu and cuda, native code refused by
     * {@link LoadOptions#allowNativeCode(boolean)}.
     */
    UNSUPPORTED(7),
    /** {@code TI_ERR_INTERNAL}: a bug in libtorchinfer. */
    INTERNAL(8),
    /**
     * {@code TI_ERR_CANCELLED}: the call was cancelled ({@link RunOptions#cancel()},
     * {@code Future.cancel}, or an interrupt of the calling thread in the interruptible
     * methods); the model stays usable.
     */
    CANCELLED(9),
    /**
     * {@code TI_ERR_DEADLINE_EXCEEDED}: the call ran past its timeout
     * ({@link Model#predict(java.time.Duration, Tensor...)}, {@link RunOptions#timeout}); the
     * model stays usable.
     */
    DEADLINE_EXCEEDED(10),
    /**
     * {@code TI_ERR_UNAVAILABLE}: a {@link Batcher}'s queue is full, or the batcher was closed
     * while the request waited in it; retry later (or elsewhere).
     */
    UNAVAILABLE(11),
    /** A code newer than this binding knows. */
    UNKNOWN(-1);

    private final int value;

    Code(int value) {
      this.value = value;
    }

    /** The C value of the code ({@code -1} for {@link #UNKNOWN}). */
    public int value() {
      return value;
    }

    /** The code for a C value; {@link #UNKNOWN} when the value is not one this binding knows. */
    public static Code of(int value) {
      for (Code c : values()) {
        if (c.value == value) {
          return c;
        }
      }
      return UNKNOWN;
    }
  }

  private final Code code;
  private final String detail;

  /** Creates an exception carrying {@code code} and the library's {@code message}. */
  public TorchInferException(Code code, String message) {
    super(code.name() + ": " + (message == null ? "" : message));
    this.code = code;
    this.detail = message == null ? "" : message;
  }

  /** The error code. */
  public Code code() {
    return code;
  }

  /** The library's message without the code prefix that {@link #getMessage()} adds. */
  public String detail() {
    return detail;
  }
}
