package org.torchinfer;

/** Process-wide functions of libtorchinfer. */
public final class TorchInfer {
  private TorchInfer() {}

  /** The native library's version at run time, e.g. "0.1.0". */
  public static String version() {
    return NativeApi.string(NativeApi.ti_version());
  }

  /** The version of the LibTorch the native library was built against. */
  public static String torchVersion() {
    return NativeApi.string(NativeApi.ti_torch_version());
  }

  /**
   * Sets the number of intra-op threads every later prediction uses (process-wide, n >= 1).
   *
   * @throws TorchInferException INVALID_ARGUMENT when {@code n < 1}
   */
  public static void setNumThreads(int n) {
    NativeApi.check(NativeApi.ti_set_num_threads(n));
  }

  /** The intra-op thread count predictions use. */
  public static int numThreads() {
    return NativeApi.ti_get_num_threads();
  }

  /** The number of CUDA devices LibTorch can use; 0 on a CPU-only build or machine. */
  public static int cudaDeviceCount() {
    return NativeApi.ti_cuda_device_count();
  }

  /**
   * Loads a shared library that registers TorchScript operators (torchvision's {@code _C}
   * extension, torchaudio, torch-scatter, your own), as {@code torch.ops.load_library} does in
   * Python. Load it before the models that use its operators: a model whose operators are not
   * registered fails to load with {@link TorchInferException.Code#MODEL_FORMAT} naming the
   * operator. A loaded library stays loaded for the life of the process; loading the same file
   * again does nothing. Thread-safe. The library must be built against the same LibTorch as
   * libtorchinfer.
   *
   * <pre>{@code
   * TorchInfer.loadOpLibrary(Path.of("/usr/lib/python3/dist-packages/torchvision/_C.so"));
   * Model detector = Model.load(Path.of("fasterrcnn.pt"));
   * }</pre>
   *
   * @throws TorchInferException NOT_FOUND (no such file), RUNTIME (the dynamic loader refused it;
   *     the message is the loader's), INVALID_ARGUMENT (a path with a NUL character)
   */
  public static void loadOpLibrary(java.nio.file.Path path) {
    java.util.Objects.requireNonNull(path, "path");
    NativeApi.check(NativeApi.ti_op_library_load(
        NativeApi.cstr(path.toAbsolutePath().toString(), "path")));
  }

  /**
   * The number of live native handles (models, tensors, outputs, inputs, batchers, run options,
   * load and batcher options, errors) in the process. For leak tests: it returns to its starting value once everything is closed.
   */
  public static long liveHandles() {
    return NativeApi.ti_live_handles();
  }

  /**
   * The file the native library was loaded from, as JNA found it: a path in
   * {@code torchinfer.library.path} or {@code jna.library.path}, the bare name
   * {@code libtorchinfer.so} when the dynamic loader found it in the system's library paths, or
   * a temporary file extracted from the natives jar on the classpath. For diagnostics.
   */
  public static String libraryFile() {
    java.io.File f = NativeApi.LIBRARY.getFile();
    return f == null ? NativeApi.LIBRARY.getName() : f.getPath();
  }

  /**
   * How the calls on a prediction's hot path (predict, reading a leaf, freeing) reach the
   * library: {@code "ffm"} (the Foreign Function &amp; Memory API, on a JDK 22+ when the jar
   * carries its JDK 22 part) or {@code "jna"} (JDK 17-21, or {@code -Dtorchinfer.ffm=false}).
   * Every other call goes through JNA. For diagnostics and benchmarks.
   */
  public static String hotPath() {
    return NativeApi.HOT.name();
  }
}
