package org.torchinfer.examples.spark;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * Adds a model's predictions to a table (runs on the driver; the scoring itself runs in the
 * executors' tasks, see {@link PartitionScorer}). The result has the table's columns, then
 * {@code <leaf>} ({@code array<float>}), {@code label} (int, the leaf's argmax) and {@code error}
 * (string, null for a scored row). Lazy, like every Dataset transformation: nothing runs until an
 * action (a write, a count) asks for the rows.
 */
public final class TableScorer {
  private static final String FEATURES = "_torchinfer_features";

  private final ScoreOptions options;
  private final LongAccumulator scored;
  private final LongAccumulator rejected;

  public TableScorer(SparkSession spark, ScoreOptions options) {
    this.options = options;
    this.scored = spark.sparkContext().longAccumulator("torchinfer rows scored");
    this.rejected = spark.sparkContext().longAccumulator("torchinfer rows rejected");
  }

  public Dataset<Row> score(Dataset<Row> table) {
    List<String> names = options.featureColumns();
    Column features;
    if (names.size() == 1 && table.schema().apply(names.get(0)).dataType() instanceof ArrayType) {
      features = functions.col(names.get(0));
    } else {
      features = functions.array(names.stream().map(functions::col).toArray(Column[]::new));
    }
    Dataset<Row> withFeatures =
        table.withColumn(FEATURES, features.cast(DataTypes.createArrayType(DataTypes.FloatType)));

    StructType out = table.schema();
    for (String added : List.of(options.leaf(), "label", "error")) {
      if (Arrays.asList(out.fieldNames()).contains(added)) {
        throw new IllegalArgumentException("the table already has a column named " + added);
      }
    }
    out = out.add(new StructField(options.leaf(), DataTypes.createArrayType(DataTypes.FloatType, false), true,
            org.apache.spark.sql.types.Metadata.empty()))
        .add("label", DataTypes.IntegerType, true)
        .add("error", DataTypes.StringType, true);
    return withFeatures.mapPartitions(new PartitionScorer(options, scored, rejected), Encoders.row(out));
  }

  /**
   * Rows given a prediction by the actions run so far (an accumulator: read it on the driver
   * after an action; a retried task counts its rows again).
   */
  public long rowsScored() {
    return scored.value();
  }

  /** Rows that got a null prediction and an error, counted like {@link #rowsScored()}. */
  public long rowsRejected() {
    return rejected.value();
  }
}
