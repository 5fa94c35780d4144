package org.torchinfer.examples.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.torchinfer.Model;
import org.torchinfer.Outputs;
import org.torchinfer.Tensor;
import org.torchinfer.TorchInfer;

/**
 * Rows per second of the Spark job in local mode against the same rows scored by a plain Java
 * loop over the binding (same model, same batch size, one intra-op thread), with 1 and 2 task
 * threads / loop threads. Also Spark reading the table and writing nothing (the "noop" sink) with
 * no model, to show what Spark costs by itself. The three run in turn, round after round, after a
 * warm-up round; medians.
 *
 * <pre>
 *   mvn -q test-compile exec:exec -Djob.main=org.torchinfer.examples.spark.ThroughputBench \
 *       -Djob.args="--model ../../build/models/demo.pt --rows 1000000 --batch-size 256 --rounds 5"
 * </pre>
 */
public final class ThroughputBench {
  private ThroughputBench() {}

  public static void main(String[] args) throws Exception {
    String model = "../../build/models/demo.pt";
    int rows = 1_000_000;
    int batch = 256;
    int rounds = 5;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--model" -> model = args[i + 1];
        case "--rows" -> rows = Integer.parseInt(args[i + 1]);
        case "--batch-size" -> batch = Integer.parseInt(args[i + 1]);
        case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    float[] features = new float[rows * 4];
    Random rnd = new Random(1);
    for (int i = 0; i < features.length; i++) {
      features[i] = (float) rnd.nextGaussian();
    }
    TorchInfer.setNumThreads(1);
    System.out.printf("rows=%d batch=%d intra-op threads=%d, JDK %s, hot path %s, LibTorch %s, %d cores, load %.1f%n",
        rows, batch, TorchInfer.numThreads(), System.getProperty("java.version"), TorchInfer.hotPath(),
        TorchInfer.torchVersion(), Runtime.getRuntime().availableProcessors(),
        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());

    Path dir = Files.createTempDirectory("torchinfer-spark-bench");
    String table = dir.resolve("table.parquet").toString();
    // [threads - 1][0: loop, 1: Spark scoring, 2: Spark without the model]: median seconds
    double[][] median = new double[2][];
    final int b = batch;
    try (Model m = Model.load(Path.of(model))) {
      for (int threads = 1; threads <= 2; threads++) {
        SparkSession session = SparkSession.builder().master("local[" + threads + "]").appName("torchinfer-bench")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.files.openCostInBytes", String.valueOf(128L << 20))
            .getOrCreate();
        session.sparkContext().setLogLevel("WARN");
        if (threads == 1) {
          writeTable(session, features, table);
        }
        Dataset<Row> input = session.read().parquet(table);
        ScoreOptions options = ScoreOptions.of(Path.of(model).toAbsolutePath().toString(), "features", 4)
            .withBatchSize(batch);
        TableScorer scorer = new TableScorer(session, options);
        int t = threads;
        median[threads - 1] = paired(rounds, List.of(
            () -> loopThreads(m, features, b, t),
            () -> scorer.score(input).write().format("noop").mode("overwrite").save(),
            () -> input.write().format("noop").mode("overwrite").save()));
        session.stop();
      }
    }
    ExecutorModels.closeAll();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }

    System.out.printf("%-54s %12s %10s%n", "median of " + rounds + " paired rounds", "rows/s", "vs loop");
    for (int t = 1; t <= 2; t++) {
      double[] m = median[t - 1];
      row("plain Java loop over the binding, " + t + " thread" + (t > 1 ? "s" : ""), rows, m[0], m[0]);
      row("Spark local[" + t + "]: read Parquet, score, write (noop)", rows, m[1], m[0]);
      row("Spark local[" + t + "]: read Parquet, write (noop), no model", rows, m[2], m[0]);
    }
    System.out.printf("RESULT spark loop1_rows_s=%.0f spark1_rows_s=%.0f loop2_rows_s=%.0f spark2_rows_s=%.0f "
        + "spark2_over_loop2=%.3f%n", rows / median[0][0], rows / median[0][1], rows / median[1][0],
        rows / median[1][1], median[1][0] / median[1][1]);
  }

  private static void row(String what, int rows, double seconds, double loopSeconds) {
    System.out.printf("%-52s %12.0f %9.2fx%n", what, rows / seconds, loopSeconds / seconds);
  }

  /**
   * Runs each of {@code runs} once as a warm-up, then {@code rounds} rounds of all of them one
   * after another (so that load from other processes hits each alike); the median wall time of
   * each, in seconds.
   */
  private static double[] paired(int rounds, List<ThrowingRunnable> runs) throws Exception {
    for (ThrowingRunnable r : runs) {
      r.run();
    }
    double[][] times = new double[runs.size()][rounds];
    for (int round = 0; round < rounds; round++) {
      for (int i = 0; i < runs.size(); i++) {
        long start = System.nanoTime();
        runs.get(i).run();
        times[i][round] = (System.nanoTime() - start) / 1e9;
      }
    }
    double[] median = new double[runs.size()];
    for (int i = 0; i < runs.size(); i++) {
      Arrays.sort(times[i]);
      median[i] = times[i][rounds / 2];
    }
    return median;
  }

  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** What the job does per batch, minus Spark: tensor in, predict, copy probs out, argmax. */
  static long loop(Model m, float[] features, int firstRow, int endRow, int batch) {
    long labels = 0;
    float[] probs = new float[batch * 3];
    for (int r = firstRow; r < endRow; r += batch) {
      int n = Math.min(batch, endRow - r);
      try (Tensor x = Tensor.of(Arrays.copyOfRange(features, r * 4, (r + n) * 4), n, 4);
           Outputs out = m.predict(x)) {
        float[] y = n == batch ? probs : new float[n * 3];
        out.copyTo(out.index("probs"), y);
        for (int i = 0; i < n; i++) {
          labels += PartitionScorer.argmax(Arrays.copyOfRange(y, i * 3, i * 3 + 3));
        }
      }
    }
    return labels;
  }

  private static void loopThreads(Model m, float[] features, int batch, int threads) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      int rows = features.length / 4;
      List<Future<Long>> parts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int from = (int) ((long) rows * t / threads);
        int to = (int) ((long) rows * (t + 1) / threads);
        parts.add(pool.submit(() -> loop(m, features, from, to, batch)));
      }
      for (Future<Long> f : parts) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
  }

  private static void writeTable(SparkSession session, float[] features, String path) {
    StructType schema = new StructType()
        .add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    List<Row> rows = new ArrayList<>(features.length / 4);
    for (int r = 0; r < features.length / 4; r++) {
      rows.add(RowFactory.create((long) r,
          List.of(features[r * 4], features[r * 4 + 1], features[r * 4 + 2], features[r * 4 + 3])));
    }
    session.createDataFrame(rows, schema).repartition(2).write().parquet(path);
  }
}
