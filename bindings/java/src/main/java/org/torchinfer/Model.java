package org.torchinfer;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import java.lang.ref.Reference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A loaded TorchScript module or AOTInductor package (see {@link #format()}), in eval mode, run
 * under LibTorch's inference mode.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("mlp.pt"));
 *      Tensor x = Tensor.of(new float[16], 1, 16);
 *      Outputs out = model.predict(x)) {
 *   float[] y = out.get(0).toFloatArray();
 * }
 * }</pre>
 *
 * <p><b>Thread safety.</b> A model may be shared by any number of threads: {@code predict},
 * {@code runMethod} and the accessors may run concurrently on one instance (the library
 * guarantees it; LibTorch's thread-local settings are applied inside each call, so thread pools
 * and virtual threads are fine). {@link #close()} may be called from any thread at any time:
 * calls already running finish normally and the native model is freed when the last one
 * returns; calls that start after close throw {@link IllegalStateException}.
 */
public final class Model extends NativeHandle {
  private final List<String> inputNames;
  private final List<String> methodNames;
  private final String device;
  private final String format;

  private Model(long ptr) {
    super(ptr, Kind.MODEL);
    int n = (int) NativeApi.ti_model_input_count(ptr);
    List<String> inputs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      inputs.add(NativeApi.string(NativeApi.ti_model_input_name(ptr, i)));
    }
    int m = (int) NativeApi.ti_model_method_count(ptr);
    List<String> methods = new ArrayList<>(m);
    for (int i = 0; i < m; i++) {
      methods.add(NativeApi.string(NativeApi.ti_model_method_name(ptr, i)));
    }
    this.inputNames = Collections.unmodifiableList(inputs);
    this.methodNames = Collections.unmodifiableList(methods);
    this.device = NativeApi.string(NativeApi.ti_model_device(ptr));
    this.format = NativeApi.string(NativeApi.ti_model_format(ptr));
  }

  /**
   * Loads a TorchScript archive (torch.jit.save) onto the CPU.
   *
   * @throws TorchInferException NOT_FOUND (no such file), MODEL_FORMAT (not a loadable archive)
   */
  public static Model load(Path path) {
    return load(path, null);
  }

  /**
   * Loads a TorchScript archive with {@code options} (null for defaults).
   *
   * @throws TorchInferException NOT_FOUND, MODEL_FORMAT, DEVICE (device not present)
   */
  public static Model load(Path path, LoadOptions options) {
    Objects.requireNonNull(path, "path");
    byte[] cpath = NativeApi.cstr(path.toAbsolutePath().toString());
    long opts = options == null ? 0 : options.newNative();
    Scratch sc = Scratch.get();
    try {
      NativeApi.check(NativeApi.ti_model_load(cpath, opts, sc.out));
    } finally {
      NativeApi.ti_load_options_free(opts);
    }
    return new Model(sc.result());
  }

  /** Loads a TorchScript archive from memory onto the CPU; {@code data} may be reused at once. */
  public static Model load(byte[] data) {
    return load(data, null);
  }

  /** Loads a TorchScript archive from memory with {@code options} (null for defaults). */
  public static Model load(byte[] data, LoadOptions options) {
    Objects.requireNonNull(data, "data");
    long opts = options == null ? 0 : options.newNative();
    Scratch sc = Scratch.get();
    try {
      NativeApi.check(NativeApi.ti_model_load_buffer(data, data.length, opts, sc.out));
    } finally {
      NativeApi.ti_load_options_free(opts);
    }
    return new Model(sc.result());
  }

  /**
   * Runs {@code forward} with positional inputs in schema order; trailing arguments with
   * defaults may be left out. An argument declared int, float or bool takes a one-element
   * tensor. The inputs stay owned by the caller. Thread-safe.
   *
   * @throws TorchInferException INVALID_ARGUMENT (wrong count or kind), RUNTIME (raised by the
   *     model; the model stays usable), OUT_OF_MEMORY, UNSUPPORTED (a result leaf that is not a
   *     tensor, int, float or bool), DEVICE
   */
  public Outputs predict(Tensor... inputs) {
    return run(null, null, inputs);
  }

  /**
   * Runs {@code forward} with inputs matched to the argument names, in any order; arguments
   * with defaults may be omitted. Thread-safe.
   *
   * @throws TorchInferException INVALID_ARGUMENT for unknown, duplicate or missing names (the
   *     message lists the valid names), and as {@link #predict(Tensor...)}
   */
  public Outputs predict(Map<String, Tensor> inputs) {
    return runNamed(null, inputs);
  }

  /**
   * Runs another method (exported with {@code @torch.jit.export}, or "forward") with positional
   * inputs. Thread-safe.
   *
   * @throws TorchInferException NOT_FOUND when the model has no such method, and as
   *     {@link #predict(Tensor...)}
   */
  public Outputs runMethod(String method, Tensor... inputs) {
    Objects.requireNonNull(method, "method");
    return run(NativeApi.cstr(method), null, inputs);
  }

  /**
   * Runs another method (exported with {@code @torch.jit.export}, or "forward") with inputs
   * matched to that method's argument names, in any order; arguments with defaults may be
   * omitted. The inputs stay owned by the caller. Thread-safe.
   *
   * <pre>{@code
   * try (Outputs out = model.runMethod("double", Map.of("x", x))) { ... }
   * }</pre>
   *
   * @throws TorchInferException NOT_FOUND when the model has no such method, INVALID_ARGUMENT for
   *     unknown, duplicate or missing names (the message lists the valid names), and as
   *     {@link #predict(Tensor...)}
   */
  public Outputs runMethod(String method, Map<String, Tensor> inputs) {
    Objects.requireNonNull(method, "method");
    return runNamed(NativeApi.cstr(method), inputs);
  }

  /** Named inputs for {@code forward} (method null) or another method. */
  private Outputs runNamed(byte[] method, Map<String, Tensor> inputs) {
    Objects.requireNonNull(inputs, "inputs");
    String[] names = new String[inputs.size()];
    Tensor[] tensors = new Tensor[inputs.size()];
    int i = 0;
    for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
      names[i] = Objects.requireNonNull(e.getKey(), "input name");
      tensors[i] = e.getValue();
      i++;
    }
    return run(method, new StringArray(names, "UTF-8"), tensors);
  }

  private Outputs run(byte[] method, StringArray names, Tensor[] inputs) {
    Objects.requireNonNull(inputs, "inputs");
    int n = inputs.length;
    long m = acquire();
    int acquired = 0;
    try {
      Scratch sc = Scratch.get();
      long[] spilled = n > Scratch.SLOTS - 1 ? new long[n] : null;
      for (; acquired < n; acquired++) {
        Tensor t = inputs[acquired];
        if (t == null) {
          throw new NullPointerException("input " + acquired + " is null");
        }
        long p = t.acquire();
        if (spilled != null) {
          spilled[acquired] = p;
        } else {
          sc.putSlot(acquired, p);
        }
      }
      Memory[] spill = spilled != null ? new Memory[1] : null;
      long ptrs = spilled != null ? sc.putArray(spilled, spill) : n == 0 ? 0 : sc.array;
      long err;
      if (method != null && names != null) {
        err = NativeApi.ti_model_run_method_named(m, method, Pointer.nativeValue(names), ptrs, n,
            sc.out);
      } else if (method != null) {
        err = NativeApi.ti_model_run_method(m, method, ptrs, n, sc.out);
      } else if (names != null) {
        err = NativeApi.ti_model_predict_named(m, Pointer.nativeValue(names), ptrs, n, sc.out);
      } else {
        err = NativeApi.ti_model_predict(m, ptrs, n, sc.out);
      }
      long handle = sc.result();
      Reference.reachabilityFence(spill);
      Reference.reachabilityFence(names);
      NativeApi.check(err);
      return new Outputs(handle);
    } finally {
      for (int i = 0; i < acquired; i++) {
        inputs[i].release();
      }
      release();
    }
  }

  /** The names of {@code forward}'s arguments (not counting self), in schema order. */
  public List<String> inputNames() {
    return inputNames;
  }

  /** The methods the model can run, sorted by name ("forward" among them). */
  public List<String> methodNames() {
    return methodNames;
  }

  /** The device the model lives on: "cpu" or "cuda:N". */
  public String device() {
    return device;
  }

  /**
   * What was loaded: "torchscript" (a torch.jit.save archive) or "aotinductor" (an AOTInductor
   * .pt2 package). Read at load time, so it stays available after {@link #close()}.
   */
  public String format() {
    return format;
  }

  @Override
  public String toString() {
    return "Model(format=" + format + ", device=" + device + ", inputs=" + inputNames + ")";
  }
}
