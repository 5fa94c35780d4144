package org.torchinfer.bench;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.torchinfer.Model;
import org.torchinfer.Outputs;
import org.torchinfer.Tensor;
import org.torchinfer.TorchInfer;

/**
 * The tiny MLP (mlp.pt, input [1,16]) through the Java binding. The same loop in C is
 * bench/c_baseline.c; run-bench.sh runs both and prints the difference.
 *
 * <p>System properties: torchinfer.bench.model (path of mlp.pt).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PredictBench {
  private Model model;
  private Tensor input;
  private float[] values;

  @Setup
  public void setUp() {
    TorchInfer.setNumThreads(1); // same as the C baseline
    model = Model.load(Path.of(System.getProperty("torchinfer.bench.model", "../../../build/models/mlp.pt")));
    values = new float[16];
    for (int i = 0; i < 16; i++) {
      values[i] = (i - 8) / 8f;
    }
    input = Tensor.of(values, 1, 16);
  }

  @TearDown
  public void tearDown() {
    input.close();
    model.close();
    if (TorchInfer.liveHandles() != 0) {
      throw new IllegalStateException("leak: " + TorchInfer.liveHandles() + " live handles");
    }
  }

  /** predict + get(0) + toFloatArray + close: the loop the C baseline runs. */
  @Benchmark
  public float[] predict() {
    try (Outputs out = model.predict(input)) {
      return out.get(0).toFloatArray();
    }
  }

  private final float[] y = new float[4];

  /** predict + copyTo(0, y) + close: the leaf copied out without a tensor handle, y reused. */
  @Benchmark
  public float predictCopyTo() {
    try (Outputs out = model.predict(input)) {
      out.copyTo(0, y);
    }
    return y[0];
  }

  /** As {@link #predict()}, also creating (and closing) the input tensor from a float[]. */
  @Benchmark
  public float[] createAndPredict() {
    try (Tensor x = Tensor.of(values, 1, 16); Outputs out = model.predict(x)) {
      return out.get(0).toFloatArray();
    }
  }

  /** The cost of one trivial binding call (ti_live_handles through JNA direct mapping). */
  @Benchmark
  public long trivialCall() {
    return TorchInfer.liveHandles();
  }
}
