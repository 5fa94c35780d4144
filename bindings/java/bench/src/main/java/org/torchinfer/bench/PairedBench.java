package org.torchinfer.bench;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.torchinfer.Model;
import org.torchinfer.Outputs;
import org.torchinfer.Tensor;
import org.torchinfer.TorchInfer;

/**
 * The Java layer's cost per call, measured against the same loop in C inside the same process,
 * and where that cost goes.
 *
 * <p>Each round runs ITERS iterations of five loops back to back, in an order that rotates from
 * round to round, so that load from other processes hits all of them alike:
 * <ol>
 *   <li>C copy-out (c_loop.c {@code ti_bench_c_run_copy}, one JNA call per round, timed in C):
 *       ti_model_predict + ti_outputs_copy_to + ti_outputs_free;
 *   <li>Java copy-out: {@code model.predict(x)} + {@code out.copyTo(0, y)} + {@code close()};
 *   <li>raw JNA: the native calls the binding makes for 2 (predict, ti_outputs_dtype,
 *       ti_outputs_copy_to, ti_outputs_free) through JNA direct mapping, with none of the
 *       binding's objects: the JNA transitions alone;
 *   <li>C handle path (c_loop.c {@code ti_bench_c_run}): predict + ti_outputs_get +
 *       ti_tensor_data + memcpy + frees;
 *   <li>Java handle path: predict + {@code out.get(0).toFloatArray()} + close.
 * </ol>
 * The medians of the per-round differences are the overheads. Then micro-measurements: one JNA
 * call ({@code ti_outputs_count}) raw and through the binding ({@code Outputs.size()}, which adds
 * the in-flight guard: acquire/release on the handle).
 *
 * <p>The last line is machine-readable: {@code PAIRED binding_ns=... c_ns=... over_c_ns=...}
 * (copy-out, medians).
 *
 * <p>Usage: PairedBench MLP.pt LIBCLOOP.so [ROUNDS] [ITERS]
 */
public final class PairedBench {
  /** The C loop library (c_loop.c). */
  public interface CLoop extends Library {
    Pointer ti_bench_c_open(String path);

    long ti_bench_c_run(Pointer ctx, long iters);

    long ti_bench_c_run_copy(Pointer ctx, long iters);

    void ti_bench_c_close(Pointer ctx);
  }

  /** The C functions the binding calls, mapped the way the binding maps them (primitives only). */
  static final class Raw {
    static {
      Native.register(Raw.class, NativeLibrary.getInstance("torchinfer"));
    }

    static native long ti_model_load(byte[] path, long opts, long out);
    static native void ti_model_free(long m);
    static native long ti_tensor_create(int dtype, long shape, long ndim, long data, long nbytes, long out);
    static native void ti_tensor_free(long t);
    static native long ti_model_predict(long m, long inputs, long n, long out);
    static native int ti_outputs_dtype(long o, long i);
    static native long ti_outputs_copy_to(long o, long i, long dst, long nbytes);
    static native long ti_outputs_count(long o);
    static native void ti_outputs_free(long o);
  }

  private static float sink;

  private static long javaCopyRound(Model model, Tensor input, float[] y, int iters) {
    long t0 = System.nanoTime();
    for (int i = 0; i < iters; i++) {
      try (Outputs out = model.predict(input)) {
        out.copyTo(0, y);
      }
      sink += y[0];
    }
    return System.nanoTime() - t0;
  }

  private static long javaHandleRound(Model model, Tensor input, int iters) {
    long t0 = System.nanoTime();
    for (int i = 0; i < iters; i++) {
      try (Outputs out = model.predict(input)) {
        sink += out.get(0).toFloatArray()[0];
      }
    }
    return System.nanoTime() - t0;
  }

  /** The raw JNA loop; {@code mem}: [0] out slot, [8] the input pointer, [16..32) the result. */
  private static long rawRound(long model, Memory mem, int iters) {
    long base = Pointer.nativeValue(mem);
    long t0 = System.nanoTime();
    for (int i = 0; i < iters; i++) {
      if (Raw.ti_model_predict(model, base + 8, 1, base) != 0) {
        throw new IllegalStateException("raw predict failed");
      }
      long out = mem.getLong(0);
      if (Raw.ti_outputs_dtype(out, 0) != 0 || Raw.ti_outputs_copy_to(out, 0, base + 16, 16) != 0) {
        throw new IllegalStateException("raw copy failed");
      }
      Raw.ti_outputs_free(out);
      sink += mem.getFloat(16);
    }
    return System.nanoTime() - t0;
  }

  private static double median(double[] a) {
    double[] s = a.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static String iqr(double[] a) {
    double[] s = a.clone();
    Arrays.sort(s);
    return String.format("%.0f .. %.0f", s[s.length / 4], s[(3 * s.length) / 4]);
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
    final int kinds = 5;
    String[] label = {"C copy-out", "Java copy-out", "raw JNA", "C handle", "Java handle"};
    double[][] ns = new double[kinds][rounds];
    double overC;
    double microJna;
    double microGuarded;
    // raw JNA set-up: its own model and input, made through Raw
    Memory mem = new Memory(64);
    Memory shape = new Memory(16);
    shape.setLong(0, 1);
    shape.setLong(8, 16);
    Memory data = new Memory(64);
    data.write(0, values, 0, 16);
    byte[] path = (Path.of(args[0]).toAbsolutePath() + "\0").getBytes(StandardCharsets.UTF_8);
    if (Raw.ti_model_load(path, 0, Pointer.nativeValue(mem)) != 0) {
      throw new IllegalStateException("raw load failed");
    }
    long rawModel = mem.getLong(0);
    if (Raw.ti_tensor_create(0, Pointer.nativeValue(shape), 2, Pointer.nativeValue(data), 64,
        Pointer.nativeValue(mem)) != 0) {
      throw new IllegalStateException("raw tensor failed");
    }
    long rawInput = mem.getLong(0);
    mem.setLong(8, rawInput);
    float[] y = new float[4];
    try (Model model = Model.load(Path.of(args[0])); Tensor input = Tensor.of(values, 1, 16)) {
      Runnable[] loops = new Runnable[kinds];
      long[] t = new long[kinds];
      loops[0] = () -> t[0] = check(c.ti_bench_c_run_copy(ctx, iters));
      loops[1] = () -> t[1] = javaCopyRound(model, input, y, iters);
      loops[2] = () -> t[2] = rawRound(rawModel, mem, iters);
      loops[3] = () -> t[3] = check(c.ti_bench_c_run(ctx, iters));
      loops[4] = () -> t[4] = javaHandleRound(model, input, iters);
      // warm-up: JIT-compile the Java paths, settle LibTorch's allocator
      for (int w = 0; w < 8; w++) {
        for (Runnable r : loops) {
          r.run();
        }
      }
      for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < kinds; k++) {
          loops[(r + k) % kinds].run(); // rotate which loop goes first
        }
        for (int k = 0; k < kinds; k++) {
          ns[k][r] = t[k] / (double) iters;
        }
      }
      // the copy-out result must equal the handle path's
      try (Outputs out = model.predict(input)) {
        out.copyTo(0, y);
        if (!Arrays.equals(y, out.get(0).toFloatArray())) {
          throw new IllegalStateException("copyTo and toFloatArray disagree");
        }
      }
      // micro: one JNA call raw, and through the binding's in-flight guard
      try (Outputs out = model.predict(input)) {
        if (Raw.ti_model_predict(rawModel, Pointer.nativeValue(mem) + 8, 1, Pointer.nativeValue(mem)) != 0) {
          throw new IllegalStateException("raw predict failed");
        }
        long o = mem.getLong(0);
        int n = 200_000;
        double[] raw = new double[15];
        double[] guarded = new double[15];
        for (int r = 0; r < 20 + raw.length; r++) {
          long a = System.nanoTime();
          long acc = 0;
          for (int i = 0; i < n; i++) {
            acc += Raw.ti_outputs_count(o);
          }
          long b = System.nanoTime();
          for (int i = 0; i < n; i++) {
            acc += out.size();
          }
          long e = System.nanoTime();
          sink += acc;
          if (r >= 20) {
            raw[r - 20] = (b - a) / (double) n;
            guarded[r - 20] = (e - b) / (double) n;
          }
        }
        Raw.ti_outputs_free(o);
        microJna = median(raw);
        microGuarded = median(guarded);
      }
    } finally {
      c.ti_bench_c_close(ctx);
      Raw.ti_tensor_free(rawInput);
      Raw.ti_model_free(rawModel);
    }
    double[] over = new double[rounds];
    double[] jnaPart = new double[rounds];
    double[] objPart = new double[rounds];
    double[] overHandle = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      over[r] = ns[1][r] - ns[0][r];
      jnaPart[r] = ns[2][r] - ns[0][r];
      objPart[r] = ns[1][r] - ns[2][r];
      overHandle[r] = ns[4][r] - ns[3][r];
    }
    overC = median(over);
    System.out.printf("paired: %d rounds x %d iterations of 5 loops, mlp.pt [1,16], 1 intra-op thread;"
        + " Java %s, binding hot path: %s%n", rounds, iters, Runtime.version(), TorchInfer.hotPath());
    for (int k = 0; k < kinds; k++) {
      System.out.printf("%-14s median %6.0f ns/op (interquartile %s)%n", label[k] + ":", median(ns[k]), iqr(ns[k]));
    }
    System.out.printf("Java layer adds (copy-out: predict + copyTo + close vs C predict + ti_outputs_copy_to + free):"
        + " median %.0f ns/op (interquartile %s)%n", overC, iqr(over));
    System.out.printf("  of which JNA (raw JNA loop - C loop: 4 JNA calls vs 3 C calls): median %.0f ns/op (%s)%n",
        median(jnaPart), iqr(jnaPart));
    System.out.printf("  %s (Java loop - raw JNA loop): median %.0f ns/op (%s)%n",
        TorchInfer.hotPath().equals("jna") ? "of which the binding's objects (Outputs + Cleaner, guards)"
            : "the binding on FFM minus raw JNA", median(objPart), iqr(objPart));
    System.out.printf("Java layer adds (handle path: get(0).toFloatArray() vs C ti_outputs_get + ti_tensor_data):"
        + " median %.0f ns/op (interquartile %s)%n", median(overHandle), iqr(overHandle));
    System.out.printf("micro: one JNA call (ti_outputs_count) %.1f ns; through the binding (Outputs.size():"
        + " + acquire/release) %.1f ns; the in-flight guard %.1f ns%n", microJna, microGuarded,
        microGuarded - microJna);
    if (TorchInfer.liveHandles() != 0) {
      throw new IllegalStateException("leak: " + TorchInfer.liveHandles() + " live handles");
    }
    if (sink == 12345f) {
      System.out.println();
    }
    System.out.printf("PAIRED binding_ns=%.0f c_ns=%.0f over_c_ns=%.0f%n", median(ns[1]), median(ns[0]), overC);
  }

  private static long check(long t) {
    if (t < 0) {
      throw new IllegalStateException("c_loop failed");
    }
    return t;
  }
}
