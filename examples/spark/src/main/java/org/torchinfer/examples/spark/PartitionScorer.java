package org.torchinfer.examples.spark;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;
import org.torchinfer.Model;
import org.torchinfer.Outputs;
import org.torchinfer.Tensor;
import org.torchinfer.TorchInferException;

/**
 * Scores one partition, on an executor: reads the rows lazily in batches of
 * {@link ScoreOptions#batchSize()}, puts each batch's features into one {@code [n, width]}
 * float32 tensor, runs one prediction, and emits the rows in their input order with three columns
 * added: the leaf ({@code array<float>}), {@code label} (its argmax) and {@code error}.
 *
 * <p>The input rows end with the features as one {@code array<float>} column (added by
 * {@link TableScorer}); that column is dropped from the output.
 *
 * <p>Bad rows (the policy README.md documents): a row whose features are null, hold a null, or
 * do not number {@code width} is not sent to the model; it gets a null prediction and label and
 * a message in {@code error}. When the model raises on a batch ({@link TorchInferException} with
 * code RUNTIME), the batch is scored again row by row, so one row the model rejects cannot cost
 * its neighbours their predictions; a row the model rejects alone gets a null prediction and the
 * exception's message in {@code error}. Every other failure (a wrong leaf name, a model file
 * that cannot be loaded, an out-of-memory) fails the task, as Spark failures do.
 */
final class PartitionScorer implements MapPartitionsFunction<Row, Row> {
  private final ScoreOptions options;
  private final LongAccumulator scored;
  private final LongAccumulator rejected;

  PartitionScorer(ScoreOptions options, LongAccumulator scored, LongAccumulator rejected) {
    this.options = options;
    this.scored = scored;
    this.rejected = rejected;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    if (!rows.hasNext()) {
      return rows; // an empty partition loads no model
    }
    return new Batches(ExecutorModels.get(options.model(), options.intraOpThreads()), rows);
  }

  /** The output rows of a partition, scored one batch at a time as they are consumed. */
  private final class Batches implements Iterator<Row> {
    private final Model model;
    private final Iterator<Row> in;
    private final ArrayDeque<Row> ready = new ArrayDeque<>();
    private final int width = options.width();
    private final int capacity = options.batchSize();
    // per batch, reused: the rows, their features (good rows packed at the front), results
    private final Row[] rows = new Row[capacity];
    private final float[] features = new float[capacity * width];
    private final int[] goodRows = new int[capacity];
    private final float[][] predictions = new float[capacity][];
    private final String[] errors = new String[capacity];

    Batches(Model model, Iterator<Row> in) {
      this.model = model;
      this.in = in;
    }

    @Override
    public boolean hasNext() {
      if (ready.isEmpty() && in.hasNext()) {
        scoreNextBatch();
      }
      return !ready.isEmpty();
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return ready.poll();
    }

    private void scoreNextBatch() {
      int n = 0;
      int good = 0;
      while (n < capacity && in.hasNext()) {
        Row row = in.next();
        rows[n] = row;
        predictions[n] = null;
        errors[n] = readFeatures(row, features, good * width);
        if (errors[n] == null) {
          goodRows[good++] = n;
        }
        n++;
      }
      if (good > 0) {
        try {
          predict(good == capacity ? features : Arrays.copyOf(features, good * width), good, 0);
        } catch (TorchInferException e) {
          if (e.code() != TorchInferException.Code.RUNTIME) {
            throw e;
          }
          // The model rejected the batch: score its rows alone, so that only the rows it
          // rejects lose their prediction.
          for (int g = 0; g < good; g++) {
            try {
              predict(Arrays.copyOfRange(features, g * width, (g + 1) * width), 1, g);
            } catch (TorchInferException single) {
              if (single.code() != TorchInferException.Code.RUNTIME) {
                throw single;
              }
              errors[goodRows[g]] = single.getMessage();
            }
          }
        }
      }
      long bad = 0;
      for (int r = 0; r < n; r++) {
        if (errors[r] != null) {
          bad++;
        }
        ready.add(output(rows[r], predictions[r], errors[r]));
        rows[r] = null;
      }
      scored.add(n - bad);
      rejected.add(bad);
    }

    /** One prediction on the good rows from {@code first} on; fills their predictions. */
    private void predict(float[] x, int count, int first) {
      try (Tensor input = Tensor.of(x, count, width);
           Outputs out = model.predict(input)) {
        int leaf = out.index(options.leaf());
        long[] shape = out.shape(leaf);
        if (shape.length != 2 || shape[0] != count) {
          throw new IllegalStateException("output " + options.leaf() + " has shape " + Arrays.toString(shape)
              + " for " + count + " rows; expected [" + count + ", K]");
        }
        int k = (int) shape[1];
        float[] y = new float[count * k];
        out.copyTo(leaf, y); // IllegalArgumentException unless float32
        for (int g = 0; g < count; g++) {
          predictions[goodRows[first + g]] = Arrays.copyOfRange(y, g * k, (g + 1) * k);
        }
      }
    }
  }

  /**
   * Copies a row's features (its last column) to {@code dst[at..]}; null when they fit, else
   * what is wrong with them.
   */
  private String readFeatures(Row row, float[] dst, int at) {
    int col = row.length() - 1;
    List<String> names = options.featureColumns();
    if (row.isNullAt(col)) {
      return names.size() == 1 ? names.get(0) + " is null" : "the features are null";
    }
    List<Object> values = row.getList(col);
    if (values.size() != options.width()) {
      return names.get(0) + (names.size() == 1 ? " has " : "... have ") + values.size()
          + " values, the model takes " + options.width();
    }
    for (int i = 0; i < values.size(); i++) {
      Object v = values.get(i);
      if (v == null) {
        return (names.size() == 1 ? names.get(0) + "[" + i + "]" : names.get(i)) + " is null";
      }
      dst[at + i] = ((Number) v).floatValue();
    }
    return null;
  }

  /** The input row without its features column, then the prediction, label and error. */
  private static Row output(Row row, float[] prediction, String error) {
    int keep = row.length() - 1;
    Object[] values = new Object[keep + 3];
    for (int i = 0; i < keep; i++) {
      values[i] = row.get(i);
    }
    if (prediction != null) {
      values[keep] = prediction;
      values[keep + 1] = argmax(prediction);
    }
    values[keep + 2] = error;
    return RowFactory.create(values);
  }

  static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }
}
