package org.torchinfer.examples.spark;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * What to score and how: shipped with the scoring function from the driver to the executors, so
 * it holds plain values only (never a {@link org.torchinfer.Model}).
 *
 * @param model the TorchScript file: a path every executor can read (a shared file system), or
 *     the file name of a file shipped with {@code spark-submit --files} (looked up through
 *     {@code SparkFiles.get})
 * @param featureColumns one {@code array<float>} (or {@code array<double>}) column, or several
 *     numeric columns that form the row's features in that order
 * @param width the number of features the model takes per row (its input is {@code [B, width]})
 * @param batchSize how many rows go into one tensor, one prediction
 * @param leaf the output leaf to write: a float32 tensor {@code [B, K]} (demo.pt: "probs"); it
 *     becomes an {@code array<float>} column of that name, plus {@code label}, its argmax
 * @param intraOpThreads LibTorch intra-op threads of each executor JVM (process-wide; set when the
 *     executor loads the model); 1 per task core is the rule, see README.md
 */
public record ScoreOptions(
    String model, List<String> featureColumns, int width, int batchSize, String leaf, int intraOpThreads)
    implements Serializable {

  public ScoreOptions {
    Objects.requireNonNull(model, "model");
    featureColumns = List.copyOf(featureColumns);
    Objects.requireNonNull(leaf, "leaf");
    if (featureColumns.isEmpty()) {
      throw new IllegalArgumentException("featureColumns: name at least one column");
    }
    if (width < 1 || batchSize < 1 || intraOpThreads < 1) {
      throw new IllegalArgumentException("width, batchSize and intraOpThreads must be >= 1, got "
          + width + ", " + batchSize + ", " + intraOpThreads);
    }
  }

  /** demo.pt's shape: 4 features in one column, "probs" written, batches of 256, 1 thread. */
  public static ScoreOptions of(String model, String featureColumn, int width) {
    return new ScoreOptions(model, List.of(featureColumn), width, 256, "probs", 1);
  }

  public ScoreOptions withBatchSize(int n) {
    return new ScoreOptions(model, featureColumns, width, n, leaf, intraOpThreads);
  }

  public ScoreOptions withLeaf(String name) {
    return new ScoreOptions(model, featureColumns, width, batchSize, name, intraOpThreads);
  }
}
