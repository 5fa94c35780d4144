package org.torchinfer.bench;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.file.Path;
import java.util.Arrays;
import org.torchinfer.Model;
import org.torchinfer.Outputs;
import org.torchinfer.Tensor;
import org.torchinfer.TorchInfer;

/**
 * The Java layer's cost per call, measured against the same loop in C inside the same process.
 *
 * <p>Each round runs ITERS iterations of the C loop (c_loop.c, one JNA call per round, timed in
 * C) and ITERS iterations of predict + get(0) + toFloatArray + close through the binding (timed
 * with System.nanoTime), in alternating order. Because the two halves of a round run back to
 * back, load from other processes affects both alike; the median of the per-round differences
 * is the overhead.
 *
 * <p>Usage: PairedBench MLP.pt LIBCLOOP.so [ROUNDS] [ITERS]
 */
public final class PairedBench {
  /** The C loop library (c_loop.c). */
  public interface CLoop extends Library {
    Pointer ti_bench_c_open(String path);

    long ti_bench_c_run(Pointer ctx, long iters);

    void ti_bench_c_close(Pointer ctx);
  }

  private static float sink;

  private static long javaRound(Model model, Tensor input, int iters) {
    long t0 = System.nanoTime();
    for (int i = 0; i < iters; i++) {
      try (Outputs out = model.predict(input)) {
        sink += out.get(0).toFloatArray()[0];
      }
    }
    return System.nanoTime() - t0;
  }

  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: PairedBench MLP.pt LIBCLOOP.so [ROUNDS] [ITERS]");
      System.exit(2);
    }
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 41;
    int iters = args.length > 3 ? Integer.parseInt(args[3]) : 5000;
    TorchInfer.setNumThreads(1);
    CLoop c = Native.load(args[1], CLoop.class);
    Pointer ctx = c.ti_bench_c_open(args[0]);
    if (ctx == null) {
      throw new IllegalStateException("c_loop could not load " + args[0]);
    }
    float[] values = new float[16];
    for (int i = 0; i < 16; i++) {
      values[i] = (i - 8) / 8f;
    }
    double[] cNs = new double[rounds];
    double[] jNs = new double[rounds];
    double[] diff = new double[rounds];
    try (Model model = Model.load(Path.of(args[0])); Tensor input = Tensor.of(values, 1, 16)) {
      // warm-up: JIT-compile the Java path, settle LibTorch's allocator
      for (int w = 0; w < 10; w++) {
        javaRound(model, input, iters);
        if (c.ti_bench_c_run(ctx, iters) < 0) {
          throw new IllegalStateException("c_loop failed");
        }
      }
      for (int r = 0; r < rounds; r++) {
        long cTime;
        long jTime;
        if (r % 2 == 0) { // alternate which half goes first
          cTime = c.ti_bench_c_run(ctx, iters);
          jTime = javaRound(model, input, iters);
        } else {
          jTime = javaRound(model, input, iters);
          cTime = c.ti_bench_c_run(ctx, iters);
        }
        cNs[r] = cTime / (double) iters;
        jNs[r] = jTime / (double) iters;
        diff[r] = jNs[r] - cNs[r];
      }
    } finally {
      c.ti_bench_c_close(ctx);
    }
    Arrays.sort(cNs);
    Arrays.sort(jNs);
    Arrays.sort(diff);
    int mid = rounds / 2;
    int q1 = rounds / 4;
    int q3 = (3 * rounds) / 4;
    System.out.printf("paired: %d rounds x %d iterations, predict+get+toFloatArray on mlp.pt [1,16], 1 intra-op thread%n",
        rounds, iters);
    System.out.printf("C API loop:        median %.0f ns/op (min %.0f)%n", cNs[mid], cNs[0]);
    System.out.printf("Java binding loop: median %.0f ns/op (min %.0f)%n", jNs[mid], jNs[0]);
    System.out.printf("Java layer adds:   median %.0f ns/op (interquartile %.0f .. %.0f)%n", diff[mid], diff[q1], diff[q3]);
    if (TorchInfer.liveHandles() != 0) {
      throw new IllegalStateException("leak: " + TorchInfer.liveHandles() + " live handles");
    }
    if (sink == 12345f) {
      System.out.println();
    }
  }
}
