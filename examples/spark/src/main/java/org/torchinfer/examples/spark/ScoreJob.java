package org.torchinfer.examples.spark;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The batch-scoring job: reads a Parquet or CSV table, adds a TorchScript model's predictions
 * and writes the result as Parquet or JSON.
 *
 * <pre>
 *   ScoreJob --input PATH --output PATH --model demo.pt --features COL[,COL...] [--width N]
 *            [--batch-size 256] [--leaf probs] [--threads 1]
 *            [--input-format parquet|csv] [--output-format parquet|json] [--master local[2]]
 * </pre>
 *
 * <ul>
 *   <li>{@code --features}: one {@code array<float>}/{@code array<double>} column (then
 *       {@code --width} is required), or several numeric columns (width: their count).
 *   <li>{@code --input-format}: default csv when the path ends in .csv (read with a header line,
 *       column types inferred), else parquet.
 *   <li>{@code --master}: only outside spark-submit (which sets it); default {@code local[*]}.
 * </ul>
 *
 * Prints the counts of scored and rejected rows (see README.md for the bad-row policy). Exit
 * status 0 when the job ran, even with rejected rows; 2 for a usage error.
 */
public final class ScoreJob {
  private ScoreJob() {}

  public static void main(String[] args) {
    Map<String, String> a;
    try {
      a = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("ScoreJob: " + e.getMessage());
      System.err.println("usage: ScoreJob --input PATH --output PATH --model FILE --features COL[,COL...] "
          + "[--width N] [--batch-size N] [--leaf NAME] [--threads N] [--input-format parquet|csv] "
          + "[--output-format parquet|json] [--master MASTER]");
      System.exit(2);
      return;
    }
    String input = a.get("input");
    List<String> features = Arrays.asList(a.get("features").split(","));
    int width = Integer.parseInt(a.getOrDefault("width", features.size() > 1 ? String.valueOf(features.size()) : "0"));
    if (width == 0) {
      System.err.println("ScoreJob: --width is required with one array column");
      System.exit(2);
    }
    ScoreOptions options = new ScoreOptions(a.get("model"), features, width,
        Integer.parseInt(a.getOrDefault("batch-size", "256")), a.getOrDefault("leaf", "probs"),
        Integer.parseInt(a.getOrDefault("threads", "1")));

    SparkSession.Builder builder = SparkSession.builder().appName("torchinfer-score");
    if (!new SparkConf().contains("spark.master")) {
      builder.master(a.getOrDefault("master", "local[*]"));
    }
    SparkSession spark = builder.getOrCreate();
    try {
      String inFormat = a.getOrDefault("input-format", input.endsWith(".csv") ? "csv" : "parquet");
      Dataset<Row> table = inFormat.equals("csv")
          ? spark.read().option("header", "true").option("inferSchema", "true").csv(input)
          : spark.read().format(inFormat).load(input);
      TableScorer scorer = new TableScorer(spark, options);
      long start = System.nanoTime();
      scorer.score(table).write().mode("overwrite").format(a.getOrDefault("output-format", "parquet"))
          .save(a.get("output"));
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf("scored %d rows, rejected %d (null prediction, see the error column) in %.1f s -> %s%n",
          scorer.rowsScored(), scorer.rowsRejected(), seconds, a.get("output"));
    } finally {
      spark.stop();
    }
  }

  private static Map<String, String> parse(String[] args) {
    List<String> known = List.of("input", "output", "model", "features", "width", "batch-size", "leaf", "threads",
        "input-format", "output-format", "master");
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      String name = args[i].startsWith("--") ? args[i].substring(2) : "";
      if (!known.contains(name) || i + 1 >= args.length) {
        throw new IllegalArgumentException("unknown option or missing value: " + args[i]);
      }
      a.put(name, args[i + 1]);
    }
    for (String required : List.of("input", "output", "model", "features")) {
      if (!a.containsKey(required)) {
        throw new IllegalArgumentException("--" + required + " is required");
      }
    }
    return a;
  }
}
