package org.torchinfer;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import java.lang.ref.Reference;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

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
 * returns; calls that start after close throw {@link IllegalStateException}, and so does every
 * accessor ({@link #inputNames()}, {@link #device()}, ...).
 *
 * <p><b>Timeouts, cancellation and interrupts.</b> Each way of running comes in four forms:
 * <table>
 *   <caption>Forms of a call and how each can be stopped</caption>
 *   <tr><th>Form</th><th>Timeout</th><th>Cancel</th><th>{@link Thread#interrupt()}</th></tr>
 *   <tr><td>{@code predict(x)}</td><td>no</td><td>no</td><td>not seen while in native code:
 *       the call runs to its end; the interrupt status stays set (the fast path, as cheap as a
 *       C call)</td></tr>
 *   <tr><td>{@code predict(Duration, x)}</td><td>yes: DEADLINE_EXCEEDED</td><td>no</td><td>cancels:
 *       CANCELLED, interrupt status stays set</td></tr>
 *   <tr><td>{@code predict(RunOptions, x)}</td><td>the options'</td><td>{@link RunOptions#cancel()}
 *       from any thread: CANCELLED</td><td>cancels the options (sticky): CANCELLED</td></tr>
 *   <tr><td>{@code predictAsync(Executor, x)}</td><td>{@code orTimeout} on the future</td>
 *       <td>{@code future.cancel(...)}: CancellationException</td><td>of the executor's thread:
 *       the future fails with CANCELLED</td></tr>
 * </table>
 * A TorchScript call stops at its next operator; an AOTInductor .pt2 call only before it starts
 * (see {@link RunOptions}). A stopped call returns nothing, leaks nothing and leaves the model
 * usable. *
 * <p><b>Arguments of any type.</b> {@code predict} and {@code runMethod} take tensors (an int,
 * float or bool argument takes a one-element tensor). {@link #run(String, Map)} takes Java values
 * for arguments of any TorchScript type (lists, tuples, dicts, Optional, str, int, float, bool,
 * nested), and {@link #run(Inputs)} arguments set by path in an {@link Inputs}; results may then
 * hold string and None leaves ({@link Outputs#kind(int)}). {@link #schema(String)} shows what a
 * method takes. Both come in the same four forms as {@code predict}.
 *
 * <p><b>Dependents.</b> {@link Inputs} and {@link Batcher} objects made from a model keep it in
 * use: closing the model while they are open marks it closed (its methods throw) but frees the
 * native model only when the last of them is closed.
 */
public final class Model extends NativeHandle {
  private final List<String> inputNames;
  private final List<String> inputTypes;
  private final List<String> methodNames;
  private final String device;
  private final String format;

  private Model(long ptr) {
    super(ptr, HandleKind.MODEL);
    int n = (int) NativeApi.ti_model_input_count(ptr);
    List<String> inputs = new ArrayList<>(n);
    List<String> types = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      inputs.add(NativeApi.string(NativeApi.ti_model_input_name(ptr, i)));
      types.add(NativeApi.string(NativeApi.ti_model_input_type(ptr, i)));
    }
    int m = (int) NativeApi.ti_model_method_count(ptr);
    List<String> methods = new ArrayList<>(m);
    for (int i = 0; i < m; i++) {
      methods.add(NativeApi.string(NativeApi.ti_model_method_name(ptr, i)));
    }
    this.inputNames = Collections.unmodifiableList(inputs);
    this.inputTypes = Collections.unmodifiableList(types);
    this.methodNames = Collections.unmodifiableList(methods);
    this.device = NativeApi.string(NativeApi.ti_model_device(ptr));
    this.format = NativeApi.string(NativeApi.ti_model_format(ptr));
  }

  /**
   * Loads a TorchScript archive (torch.jit.save) onto the CPU.
   *
   * @throws TorchInferException NOT_FOUND (no such file), MODEL_FORMAT (not a loadable archive),
   *     INVALID_ARGUMENT (a path with a NUL character)
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
    byte[] cpath = NativeApi.cstr(path.toAbsolutePath().toString(), "path");
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
   * <p>The fast path: no timeout and <b>not interruptible</b> (a thread inside the native call
   * cannot see {@link Thread#interrupt()}; the call runs to its end and the interrupt status
   * stays set for the caller to see). Use {@link #predict(Duration, Tensor...)},
   * {@link #predict(RunOptions, Tensor...)} or {@link #predictAsync(Executor, Tensor...)} for a
   * call that can be stopped.
   *
   * @throws TorchInferException INVALID_ARGUMENT (wrong count or kind), RUNTIME (raised by the
   *     model; the model stays usable), OUT_OF_MEMORY, UNSUPPORTED (a result leaf that is not a
   *     tensor, int, float or bool), DEVICE
   */
  public Outputs predict(Tensor... inputs) {
    return run(null, null, inputs, null);
  }

  /**
   * Runs {@code forward} with inputs matched to the argument names, in any order; arguments
   * with defaults may be omitted. Thread-safe. Not interruptible, like
   * {@link #predict(Tensor...)}.
   *
   * @throws TorchInferException INVALID_ARGUMENT for unknown, duplicate or missing names (the
   *     message lists the valid names) or a name with a NUL character, and as
   *     {@link #predict(Tensor...)}
   */
  public Outputs predict(Map<String, Tensor> inputs) {
    Named named = Named.of(inputs);
    return run(null, named.cNames(), named.tensors, null);
  }

  /**
   * Runs another method (exported with {@code @torch.jit.export}, or "forward") with positional
   * inputs. Thread-safe. Not interruptible, like {@link #predict(Tensor...)}.
   *
   * @throws TorchInferException NOT_FOUND when the model has no such method, INVALID_ARGUMENT
   *     for a method name with a NUL character, and as {@link #predict(Tensor...)}
   */
  public Outputs runMethod(String method, Tensor... inputs) {
    return run(methodName(method), null, inputs, null);
  }

  /**
   * Runs another method (exported with {@code @torch.jit.export}, or "forward") with inputs
   * matched to that method's argument names, in any order; arguments with defaults may be
   * omitted. The inputs stay owned by the caller. Thread-safe. Not interruptible, like
   * {@link #predict(Tensor...)}.
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
    byte[] m = methodName(method);
    Named named = Named.of(inputs);
    return run(m, named.cNames(), named.tensors, null);
  }

  // ------------------------------------------------------------------ with a timeout

  /**
   * As {@link #predict(Tensor...)}, failing with
   * {@link TorchInferException.Code#DEADLINE_EXCEEDED} if the call runs longer than
   * {@code timeout}. <b>Interruptible</b>: {@link Thread#interrupt()} of the calling thread
   * (before or during the call) cancels the native call, which then throws
   * {@link TorchInferException.Code#CANCELLED}; the interrupt status stays set. A TorchScript
   * model stops at its next operator; an AOTInductor .pt2 call is checked only before it starts
   * (see {@link RunOptions}).
   *
   * @param timeout positive; rounded up to whole microseconds
   * @throws IllegalArgumentException if {@code timeout} is zero or negative
   * @throws TorchInferException DEADLINE_EXCEEDED, CANCELLED (interrupted), and as
   *     {@link #predict(Tensor...)}
   */
  public Outputs predict(Duration timeout, Tensor... inputs) {
    long us = RunOptions.micros(timeout);
    Objects.requireNonNull(inputs, "inputs");
    try (RunOptions options = new RunOptions()) {
      options.timeoutMicros(us);
      return run(null, null, inputs, options);
    }
  }

  /**
   * As {@link #predict(Map)} with a timeout; interruptible. See
   * {@link #predict(Duration, Tensor...)}.
   */
  public Outputs predict(Duration timeout, Map<String, Tensor> inputs) {
    long us = RunOptions.micros(timeout);
    Named named = Named.of(inputs);
    try (RunOptions options = new RunOptions()) {
      options.timeoutMicros(us);
      return run(null, named.cNames(), named.tensors, options);
    }
  }

  /**
   * As {@link #runMethod(String, Tensor...)} with a timeout; interruptible. See
   * {@link #predict(Duration, Tensor...)}.
   */
  public Outputs runMethod(String method, Duration timeout, Tensor... inputs) {
    byte[] m = methodName(method);
    long us = RunOptions.micros(timeout);
    Objects.requireNonNull(inputs, "inputs");
    try (RunOptions options = new RunOptions()) {
      options.timeoutMicros(us);
      return run(m, null, inputs, options);
    }
  }

  /**
   * As {@link #runMethod(String, Map)} with a timeout; interruptible. See
   * {@link #predict(Duration, Tensor...)}.
   */
  public Outputs runMethod(String method, Duration timeout, Map<String, Tensor> inputs) {
    byte[] m = methodName(method);
    long us = RunOptions.micros(timeout);
    Named named = Named.of(inputs);
    try (RunOptions options = new RunOptions()) {
      options.timeoutMicros(us);
      return run(m, named.cNames(), named.tensors, options);
    }
  }

  // ------------------------------------------------------------------ with run options

  /**
   * As {@link #predict(Tensor...)} under {@code options}: their timeout applies, and
   * {@link RunOptions#cancel()} from any thread stops the call with
   * {@link TorchInferException.Code#CANCELLED}. <b>Interruptible</b>: an interrupt of the
   * calling thread cancels {@code options} (sticky: other calls using them stop too) and the
   * call throws CANCELLED, leaving the interrupt status set. The options must stay open until
   * the call returns (closing them meanwhile is safe: they are freed when it returns).
   *
   * @throws IllegalStateException if {@code options} (or the model, or an input) is closed
   * @throws TorchInferException CANCELLED, DEADLINE_EXCEEDED, and as {@link #predict(Tensor...)}
   */
  public Outputs predict(RunOptions options, Tensor... inputs) {
    Objects.requireNonNull(options, "options");
    return run(null, null, inputs, options);
  }

  /** As {@link #predict(Map)} under {@code options}; see {@link #predict(RunOptions, Tensor...)}. */
  public Outputs predict(RunOptions options, Map<String, Tensor> inputs) {
    Objects.requireNonNull(options, "options");
    Named named = Named.of(inputs);
    return run(null, named.cNames(), named.tensors, options);
  }

  /**
   * As {@link #runMethod(String, Tensor...)} under {@code options}; see
   * {@link #predict(RunOptions, Tensor...)}.
   */
  public Outputs runMethod(String method, RunOptions options, Tensor... inputs) {
    byte[] m = methodName(method);
    Objects.requireNonNull(options, "options");
    return run(m, null, inputs, options);
  }

  /**
   * As {@link #runMethod(String, Map)} under {@code options}; see
   * {@link #predict(RunOptions, Tensor...)}.
   */
  public Outputs runMethod(String method, RunOptions options, Map<String, Tensor> inputs) {
    byte[] m = methodName(method);
    Objects.requireNonNull(options, "options");
    Named named = Named.of(inputs);
    return run(m, named.cNames(), named.tensors, options);
  }

  // ------------------------------------------------------------------ asynchronous

  /**
   * Runs {@link #predict(Tensor...)} on {@code executor} and returns its future. There is no
   * default executor: a prediction blocks its thread for its whole duration, which does not
   * belong in {@code ForkJoinPool.commonPool()}; pass a pool sized for your models (a fixed
   * pool, or {@code Executors.newVirtualThreadPerTaskExecutor()} on Java 21).
   *
   * <p><b>Cancelling.</b> Completing the future from outside before the call returns —
   * {@code cancel(true)} or {@code cancel(false)} (both cancel the native call; neither
   * interrupts the executor's thread), {@code orTimeout}, {@code completeOnTimeout},
   * {@code complete}, {@code completeExceptionally} — cancels the native call: a TorchScript
   * model stops at its next operator and the executor's thread is free again at once. Outputs
   * produced anyway by a call that finished first are closed by the binding. An interrupt of the
   * executor's thread (e.g. {@code ExecutorService.shutdownNow()}) also cancels the call, and the
   * future then fails with {@link TorchInferException.Code#CANCELLED}.
   *
   * <p>The future completes with Outputs that the caller closes
   * ({@code try (Outputs out = future.join()) {...}}), or exceptionally with what the blocking
   * call would have thrown. Keep the model and the inputs open until the future completes:
   * closed before the task starts, they make it fail with {@link IllegalStateException}.
   * Arguments this binding rejects itself (null, a NUL in a name, a model or input already
   * closed) throw at once.
   *
   * @throws java.util.concurrent.RejectedExecutionException if {@code executor} refuses the task
   */
  public CompletableFuture<Outputs> predictAsync(Executor executor, Tensor... inputs) {
    Tensor[] copy = Objects.requireNonNull(inputs, "inputs").clone();
    return async(executor, copy, options -> run(null, null, copy, options));
  }

  /** As {@link #predict(Map)} on {@code executor}; see {@link #predictAsync(Executor, Tensor...)}. */
  public CompletableFuture<Outputs> predictAsync(Executor executor, Map<String, Tensor> inputs) {
    Named named = Named.of(inputs);
    return async(executor, named.tensors, options -> run(null, named.cNames(), named.tensors, options));
  }

  /**
   * As {@link #runMethod(String, Tensor...)} on {@code executor}; see
   * {@link #predictAsync(Executor, Tensor...)}.
   */
  public CompletableFuture<Outputs> runMethodAsync(Executor executor, String method, Tensor... inputs) {
    byte[] m = methodName(method);
    Tensor[] copy = Objects.requireNonNull(inputs, "inputs").clone();
    return async(executor, copy, options -> run(m, null, copy, options));
  }

  /**
   * As {@link #runMethod(String, Map)} on {@code executor}; see
   * {@link #predictAsync(Executor, Tensor...)}.
   */
  public CompletableFuture<Outputs> runMethodAsync(Executor executor, String method,
      Map<String, Tensor> inputs) {
    byte[] m = methodName(method);
    Named named = Named.of(inputs);
    return async(executor, named.tensors, options -> run(m, named.cNames(), named.tensors, options));
  }

  private CompletableFuture<Outputs> async(Executor executor, Tensor[] inputs,
      Function<RunOptions, Outputs> call) {
    Objects.requireNonNull(executor, "executor");
    ensureOpen();
    for (int i = 0; i < inputs.length; i++) {
      if (inputs[i] == null) {
        throw new NullPointerException("input " + i + " is null");
      }
      inputs[i].ensureOpen();
    }
    return AsyncCall.submit(executor, null, call);
  }

  // ------------------------------------------------------------------ structured values

  /**
   * Runs {@code method} with arguments of any TorchScript type: each entry of {@code args} is
   * an argument (by name, or by position in decimal: "0"), its value walked into paths as
   * {@link Inputs#set(String, Object)} describes (Tensor, String, Long / Integer, Double / Float,
   * Boolean, null for None, List for lists and tuples, Map for dicts with String, Long / Integer
   * or Boolean keys, nested; an empty List or Map is an empty container of the declared type).
   * Arguments left out take their defaults. Thread-safe. Not interruptible, like
   * {@link #predict(Tensor...)}.
   *
   * <pre>{@code
   * try (Outputs out = model.run("forward", Map.of(
   *          "batch", Map.of("input_ids", ids, "attention_mask", mask)))) { ... }
   * try (Outputs out = detector.run("forward", Map.of("images", List.of(img1, img2)))) {
   *   float[] boxes = out.toFloatArray(out.index("1.0.boxes"));
   * }
   * }</pre>
   *
   * <p>The values are set into new {@link Inputs} and the call runs with them; to run the same
   * arguments many times, build an {@link Inputs} once and call {@link #run(Inputs)}.
   *
   * @throws TorchInferException INVALID_ARGUMENT naming the path and the declared type when a
   *     value does not fit the schema (set-time) or a list has a gap, a tuple a missing element, a
   *     required argument is missing (run-time); NOT_FOUND (no such method); and as
   *     {@link #predict(Tensor...)}
   * @throws IllegalArgumentException for a value or key of a Java type that has no TorchScript
   *     counterpart
   */
  public Outputs run(String method, Map<String, ?> args) {
    try (Inputs in = inputsOf(method, args)) {
      return runInputs(in, null);
    }
  }

  /**
   * As {@link #run(String, Map)} with a timeout; interruptible. See
   * {@link #predict(Duration, Tensor...)}.
   */
  public Outputs run(String method, Duration timeout, Map<String, ?> args) {
    long us = RunOptions.micros(timeout);
    try (Inputs in = inputsOf(method, args); RunOptions options = new RunOptions()) {
      options.timeoutMicros(us);
      return runInputs(in, options);
    }
  }

  /**
   * As {@link #run(String, Map)} under {@code options}; interruptible. See
   * {@link #predict(RunOptions, Tensor...)}.
   */
  public Outputs run(String method, RunOptions options, Map<String, ?> args) {
    Objects.requireNonNull(options, "options");
    try (Inputs in = inputsOf(method, args)) {
      return runInputs(in, options);
    }
  }

  /**
   * As {@link #run(String, Map)} on {@code executor}; see
   * {@link #predictAsync(Executor, Tensor...)}. The values are set before this returns (a value
   * the schema refuses throws here), so {@code args} may change afterwards; tensors in it must
   * stay open only until this returns.
   */
  public CompletableFuture<Outputs> runAsync(Executor executor, String method, Map<String, ?> args) {
    Objects.requireNonNull(executor, "executor");
    Inputs in = inputsOf(method, args);
    return AsyncCall.submit(executor, in, options -> runInputs(in, options));
  }

  /**
   * Runs the method {@code inputs} were made for with them. Any number of threads may run with
   * one Inputs at once. Not interruptible, like {@link #predict(Tensor...)}.
   *
   * @throws TorchInferException INVALID_ARGUMENT for the run-time checks of {@link Inputs} (a
   *     list with a gap, a tuple with a missing element, a required argument not set) and for
   *     inputs made from another model; and as {@link #predict(Tensor...)}
   * @throws IllegalStateException if this model or {@code inputs} is closed
   */
  public Outputs run(Inputs inputs) {
    return runInputs(inputs, null);
  }

  /** As {@link #run(Inputs)} with a timeout; interruptible. See {@link #predict(Duration, Tensor...)}. */
  public Outputs run(Duration timeout, Inputs inputs) {
    long us = RunOptions.micros(timeout);
    Objects.requireNonNull(inputs, "inputs");
    try (RunOptions options = new RunOptions()) {
      options.timeoutMicros(us);
      return runInputs(inputs, options);
    }
  }

  /** As {@link #run(Inputs)} under {@code options}; interruptible. See {@link #predict(RunOptions, Tensor...)}. */
  public Outputs run(RunOptions options, Inputs inputs) {
    Objects.requireNonNull(options, "options");
    return runInputs(inputs, options);
  }

  /**
   * As {@link #run(Inputs)} on {@code executor}; see {@link #predictAsync(Executor, Tensor...)}.
   * Keep {@code inputs} open and unchanged until the future completes.
   */
  public CompletableFuture<Outputs> runAsync(Executor executor, Inputs inputs) {
    Objects.requireNonNull(executor, "executor");
    Objects.requireNonNull(inputs, "inputs");
    ensureOpen();
    inputs.ensureOpen();
    return AsyncCall.submit(executor, null, options -> runInputs(inputs, options));
  }

  /** New Inputs for {@code method} with {@code args} set; closed again if a value fails. */
  private Inputs inputsOf(String method, Map<String, ?> args) {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(args, "args");
    Inputs in = new Inputs(this, method);
    try {
      for (Map.Entry<String, ?> e : args.entrySet()) {
        String name = Objects.requireNonNull(e.getKey(), "argument name");
        in.set(Inputs.escapeKey(name), e.getValue());
      }
      return in;
    } catch (RuntimeException | Error e) {
      in.close();
      throw e;
    }
  }

  /** ti_model_run_inputs; with options, interruptible as {@link #run(byte[], StringArray, Tensor[], RunOptions)}. */
  private Outputs runInputs(Inputs inputs, RunOptions options) {
    Objects.requireNonNull(inputs, "inputs");
    long m = acquire();
    try {
      long in = inputs.acquire();
      try {
        long opts = options == null ? 0 : options.acquire();
        try {
          Scratch sc = Scratch.get();
          long err;
          boolean interrupted = false;
          if (options != null) {
            Interrupter interrupter = new Interrupter(options);
            interrupter.enter();
            try {
              err = NativeApi.ti_model_run_inputs(m, in, opts, sc.out);
            } finally {
              interrupted = interrupter.exit();
            }
          } else {
            err = NativeApi.ti_model_run_inputs(m, in, 0, sc.out);
          }
          long handle = sc.result();
          if (err != 0) {
            throw Interrupter.explain(NativeApi.take(err), interrupted);
          }
          return new Outputs(handle);
        } finally {
          if (options != null) {
            options.release();
          }
        }
      } finally {
        inputs.release();
      }
    } finally {
      release();
    }
  }

  /**
   * The schema of {@code forward} as LibTorch prints it, without {@code self}; see
   * {@link #schema(String)}.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public String schema() {
    return schema("forward");
  }

  /**
   * The schema of {@code method} as LibTorch prints it, without {@code self}:
   * {@code "forward(Tensor[] images, Dict(str, Tensor)[]? targets=None) -> (...)"}. For a .pt2
   * package, a signature made from the package's input and output specs.
   *
   * @throws TorchInferException NOT_FOUND when the model has no such method (the message lists
   *     the methods), INVALID_ARGUMENT for a name with a NUL character
   * @throws IllegalStateException after {@link #close()}
   */
  public String schema(String method) {
    byte[] cmethod = methodName(method);
    long p = acquire();
    try {
      String s = NativeApi.string(NativeApi.ti_model_method_schema(p, cmethod));
      if (s == null) {
        throw new TorchInferException(TorchInferException.Code.NOT_FOUND,
            "no method \"" + method + "\"; the methods are " + methodNames);
      }
      return s;
    } finally {
      release();
    }
  }

  // ------------------------------------------------------------------ the call

  private static byte[] methodName(String method) {
    Objects.requireNonNull(method, "method");
    return NativeApi.cstr(method, "method name");
  }

  /** Named inputs split into names and tensors, checked before anything native is touched. */
  static final class Named {
    final String[] names;
    final Tensor[] tensors;

    private Named(String[] names, Tensor[] tensors) {
      this.names = names;
      this.tensors = tensors;
    }

    static Named of(Map<String, Tensor> inputs) {
      Objects.requireNonNull(inputs, "inputs");
      String[] names = new String[inputs.size()];
      Tensor[] tensors = new Tensor[names.length];
      int i = 0;
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        if (i == names.length) {
          throw new java.util.ConcurrentModificationException("inputs changed while being read");
        }
        String name = Objects.requireNonNull(e.getKey(), "input name");
        names[i] = NativeApi.requireNoNul(name, "input name");
        tensors[i] = e.getValue();
        i++;
      }
      if (i != names.length) {
        throw new java.util.ConcurrentModificationException("inputs changed while being read");
      }
      return new Named(names, tensors);
    }

    /** The names as a native array of C strings, kept reachable by the caller for the call. */
    StringArray cNames() {
      return new StringArray(names, "UTF-8");
    }
  }

  /**
   * The one call path. {@code method} null runs forward, {@code names} null passes the inputs
   * positionally; {@code options} null takes the shorthand functions (no options, not
   * interruptible: the fast path), otherwise ti_model_run under the options, with the calling
   * thread's interrupt wired to {@link RunOptions#cancel()} for the duration of the native call.
   */
  private Outputs run(byte[] method, StringArray names, Tensor[] inputs, RunOptions options) {
    Objects.requireNonNull(inputs, "inputs");
    int n = inputs.length;
    long m = acquire();
    try {
      long opts = options == null ? 0 : options.acquire();
      try {
        Scratch sc = Scratch.get();
        Memory[] spill = n > Scratch.SLOTS - 1 ? new Memory[1] : null;
        long ptrs = acquireTensors(inputs, sc, spill);
        try {
          long namesPtr = names == null ? 0 : Pointer.nativeValue(names);
          long err;
          boolean interrupted = false;
          if (options != null) {
            Interrupter interrupter = new Interrupter(options);
            interrupter.enter();
            try {
              err = NativeApi.ti_model_run(m, method, namesPtr, ptrs, n, opts, sc.out);
            } finally {
              interrupted = interrupter.exit();
            }
          } else if (method != null && names != null) {
            err = NativeApi.ti_model_run_method_named(m, method, namesPtr, ptrs, n, sc.out);
          } else if (method != null) {
            err = NativeApi.ti_model_run_method(m, method, ptrs, n, sc.out);
          } else if (names != null) {
            err = NativeApi.ti_model_predict_named(m, namesPtr, ptrs, n, sc.out);
          } else {
            err = NativeApi.HOT.ti_model_predict(m, ptrs, n, sc.out);
          }
          long handle = sc.result();
          if (err != 0) {
            throw Interrupter.explain(NativeApi.take(err), interrupted);
          }
          return new Outputs(handle);
        } finally {
          releaseTensors(inputs);
          Reference.reachabilityFence(spill);
          Reference.reachabilityFence(names);
        }
      } finally {
        if (options != null) {
          options.release();
        }
      }
    } finally {
      release();
    }
  }

  /**
   * Acquires every tensor of {@code inputs} and writes their pointers to the thread's scratch
   * slots, or to {@code spill[0]} (non-null exactly when there are more than
   * {@code Scratch.SLOTS - 1}), which the caller keeps reachable for the call; returns the
   * array's address (0 for none). On failure (a null or closed input) releases the ones it
   * acquired; on success the caller releases them all with {@link #releaseTensors(Tensor[])}.
   */
  static long acquireTensors(Tensor[] inputs, Scratch sc, Memory[] spill) {
    int n = inputs.length;
    long[] spilled = spill != null ? new long[n] : null;
    int acquired = 0;
    try {
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
    } catch (RuntimeException | Error e) {
      for (int i = 0; i < acquired; i++) {
        inputs[i].release();
      }
      throw e;
    }
    return spilled != null ? sc.putArray(spilled, spill) : n == 0 ? 0 : sc.array;
  }

  /** Ends {@link #acquireTensors}. */
  static void releaseTensors(Tensor[] inputs) {
    for (Tensor t : inputs) {
      t.release();
    }
  }

  /**
   * The names of {@code forward}'s arguments (not counting self), in schema order.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public List<String> inputNames() {
    ensureOpen();
    return inputNames;
  }

  /**
   * The declared types of {@code forward}'s arguments, for display, in the order of
   * {@link #inputNames()}: a TorchScript annotation ("Tensor", "Optional[Tensor]", "int"), or for
   * a .pt2 input its dtype and sizes with dynamic sizes as symbols ("Tensor(float32, [s0, 8])").
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public List<String> inputTypes() {
    ensureOpen();
    return inputTypes;
  }

  /**
   * The methods the model can run, sorted by name ("forward" among them).
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public List<String> methodNames() {
    ensureOpen();
    return methodNames;
  }

  /**
   * The device the model lives on: "cpu" or "cuda:N".
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public String device() {
    ensureOpen();
    return device;
  }

  /**
   * What was loaded: "torchscript" (a torch.jit.save archive) or "aotinductor" (an AOTInductor
   * .pt2 package).
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public String format() {
    ensureOpen();
    return format;
  }

  /** A description; "Model(closed)" after {@link #close()} (never throws). */
  @Override
  public String toString() {
    if (isClosed()) {
      return "Model(closed)";
    }
    return "Model(format=" + format + ", device=" + device + ", inputs=" + inputNames + ")";
  }
}
