package org.torchinfer.examples.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.torchinfer.Model;
import org.torchinfer.Outputs;
import org.torchinfer.Tensor;
import org.torchinfer.TorchInfer;

/**
 * The job in Spark's local mode (local[2]: the driver is also the only executor, with two task
 * threads), checked against the same rows scored by a plain Java loop over the binding, against
 * PyTorch's reference.json, and against demo.pt's weights computed in plain Java.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SparkScoringTest {
  private static final int ROWS = 3000;
  private static final StructType ARRAY_TABLE = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("name", DataTypes.StringType, true)
      .add("features", DataTypes.createArrayType(DataTypes.FloatType, true), true);

  @TempDir Path tmp;
  private SparkSession spark;
  private Model loop; // the plain-Java reference: one row per prediction

  @BeforeAll
  void start() {
    spark = SparkSession.builder().master("local[2]").appName("torchinfer-spark-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        // one read partition per file, even for small files (Spark packs small files together)
        .config("spark.sql.files.openCostInBytes", String.valueOf(128L << 20))
        .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    loop = Model.load(Fixtures.demo());
  }

  @AfterAll
  void stop() {
    if (loop != null) {
      loop.close();
    }
    if (spark != null) {
      spark.stop();
    }
  }

  /** probs of one row by the binding alone, no Spark, no batching. */
  private float[] loopProbs(Model model, float[] x, String leaf) {
    try (Tensor t = Tensor.of(x, 1, x.length);
         Outputs out = model.predict(t)) {
      return out.toFloatArray(out.index(leaf));
    }
  }

  private static void assertClose(double want, double got, String what) {
    assertTrue(Math.abs(want - got) <= 1e-6 + 1e-5 * Math.abs(want), what + ": want " + want + ", got " + got);
  }

  private static float[] floats(List<Object> values) {
    float[] v = new float[values.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = ((Number) values.get(i)).floatValue();
    }
    return v;
  }

  private static Map<Long, Row> byId(Dataset<Row> table) {
    Map<Long, Row> rows = new HashMap<>();
    for (Row r : table.collectAsList()) {
      assertNull(rows.put(((Number) r.get(r.fieldIndex("id"))).longValue(), r), "duplicate id");
    }
    return rows;
  }

  @Test
  @Order(1)
  void scoresAParquetTableLikeAPlainJavaLoopAndPyTorch() throws IOException {
    Fixtures.DemoCase ref = Fixtures.demoCase();
    Fixtures.DemoWeights weights = new Fixtures.DemoWeights();
    // the plain-Java demo model agrees with PyTorch before it is trusted as a reference
    double[] check = weights.probs(ref.features());
    for (int k = 0; k < 3; k++) {
      assertClose(ref.probs()[k], check[k], "weights from demo.pt vs reference.json probs[" + k + "]");
    }

    Random rnd = new Random(18);
    List<Row> rows = new ArrayList<>();
    Map<Long, float[]> features = new HashMap<>();
    for (long id = 0; id < ROWS; id++) {
      float[] x = new float[4];
      for (int j = 0; j < 4; j++) {
        x[j] = (float) (rnd.nextGaussian() * 2);
      }
      if (id % 1000 == 7) {
        x = ref.features().clone(); // reference.json's row, in each partition's range
      }
      features.put(id, x);
      List<Float> boxed = new ArrayList<>();
      for (float v : x) {
        boxed.add(v);
      }
      rows.add(RowFactory.create(id, "row-" + id, boxed));
    }
    String in = tmp.resolve("table.parquet").toString();
    spark.createDataFrame(rows, ARRAY_TABLE).repartition(3).write().parquet(in);

    int loadsBefore = ExecutorModels.loads();
    TableScorer scorer = new TableScorer(spark, ScoreOptions.of(Fixtures.demo().toString(), "features", 4)
        .withBatchSize(64));
    Dataset<Row> table = spark.read().parquet(in);
    assertEquals(3, table.rdd().getNumPartitions(), "three tasks share the executor's two threads");
    String out = tmp.resolve("scored.parquet").toString();
    Dataset<Row> result = scorer.score(table);
    assertEquals(DataTypes.createArrayType(DataTypes.FloatType, false), result.schema().apply("probs").dataType());
    result.write().parquet(out);

    Dataset<Row> scored = spark.read().parquet(out);
    assertEquals(List.of("id", "name", "features", "probs", "label", "error"), Arrays.asList(scored.columns()));
    Map<Long, Row> got = byId(scored);
    assertEquals(ROWS, got.size());
    int referenceRows = 0;
    for (long id = 0; id < ROWS; id++) {
      Row r = got.get(id);
      float[] x = features.get(id);
      assertEquals("row-" + id, r.getString(1));
      assertTrue(Arrays.equals(x, floats(r.getList(2))), "features passed through");
      assertTrue(r.isNullAt(5), "row " + id + " error: " + r.get(5));
      float[] probs = floats(r.getList(3));
      float[] want = loopProbs(loop, x, "probs");
      double[] independent = weights.probs(x);
      assertEquals(3, probs.length);
      for (int k = 0; k < 3; k++) {
        assertClose(want[k], probs[k], "row " + id + " probs[" + k + "] vs the plain Java loop");
        assertClose(independent[k], probs[k], "row " + id + " probs[" + k + "] vs demo.pt's weights");
      }
      assertEquals(PartitionScorer.argmax(want), r.getInt(4), "row " + id + " label");
      if (id % 1000 == 7) {
        referenceRows++;
        for (int k = 0; k < 3; k++) {
          assertClose(ref.probs()[k], probs[k], "row " + id + " probs[" + k + "] vs reference.json (PyTorch)");
        }
      }
    }
    assertEquals(3, referenceRows);
    assertEquals(ROWS, scorer.rowsScored());
    assertEquals(0, scorer.rowsRejected());
    assertEquals(1, ExecutorModels.loads() - loadsBefore, "one model for the executor's three tasks");

    String lib = TorchInfer.libraryFile();
    Path build = Fixtures.models().getParent().toAbsolutePath();
    assertTrue(lib.startsWith("/") && !lib.startsWith(build.toString()),
        "libtorchinfer.so should come from the natives jar (extracted by JNA), was loaded from " + lib);
  }

  @Test
  @Order(2)
  void scoresACsvTableWithOneColumnPerFeature() throws IOException {
    Path csv = tmp.resolve("table.csv");
    Random rnd = new Random(7);
    StringBuilder text = new StringBuilder("id,f0,f1,f2,f3\n");
    Map<Long, float[]> features = new HashMap<>();
    for (long id = 0; id < 500; id++) {
      float[] x = new float[4];
      text.append(id);
      for (int j = 0; j < 4; j++) {
        String v = String.valueOf(Math.round(rnd.nextGaussian() * 1e6) / 1e5);
        text.append(',').append(v);
        x[j] = (float) Double.parseDouble(v); // what Spark's double -> float cast gives
      }
      text.append('\n');
      features.put(id, x);
    }
    Files.writeString(csv, text);

    int loadsBefore = ExecutorModels.loads();
    Dataset<Row> table = spark.read().option("header", "true").option("inferSchema", "true").csv(csv.toString());
    TableScorer scorer = new TableScorer(spark,
        new ScoreOptions(Fixtures.demo().toString(), List.of("f0", "f1", "f2", "f3"), 4, 100, "probs", 1));
    Map<Long, Row> got = byId(scorer.score(table));
    assertEquals(500, got.size());
    for (Map.Entry<Long, Row> e : got.entrySet()) {
      Row r = e.getValue();
      assertEquals(List.of("id", "f0", "f1", "f2", "f3", "probs", "label", "error"), Arrays.asList(r.schema().fieldNames()));
      float[] want = loopProbs(loop, features.get(e.getKey()), "probs");
      float[] probs = floats(r.getList(5));
      for (int k = 0; k < 3; k++) {
        assertClose(want[k], probs[k], "csv row " + e.getKey() + " probs[" + k + "]");
      }
      assertEquals(PartitionScorer.argmax(want), r.getInt(6));
    }
    assertEquals(0, ExecutorModels.loads() - loadsBefore, "the executor's model is reused by the next job");
  }

  @Test
  @Order(3)
  void rowsOfTheWrongWidthGetANullPredictionAndAnError() {
    Object[][] cells = {
        {0L, new Float[] {0.5f, -1f, 2f, 0.1f}},
        {1L, new Float[] {1f, 2f, 3f, 4f, 5f}}, // too wide
        {2L, new Float[] {1f, 1f, 1f, 1f}},
        {3L, new Float[] {1f, 2f, 3f}}, // too narrow
        {4L, null}, // no features
        {5L, new Float[] {1f, null, 2f, 3f}}, // a null inside
        {6L, new Float[] {-3f, 0f, 3f, 0.25f}},
        {7L, new Float[] {0f, 0f, 0f, 0f}},
        {8L, new Float[] {}},
        {9L, new Float[] {2f, -2f, 2f, -2f}},
    };
    Map<Long, String> errors = Map.of(
        1L, "features has 5 values, the model takes 4",
        3L, "features has 3 values, the model takes 4",
        4L, "features is null",
        5L, "features[1] is null",
        8L, "features has 0 values, the model takes 4");
    List<Row> rows = new ArrayList<>();
    for (Object[] c : cells) {
      rows.add(RowFactory.create(c[0], "row-" + c[0], c[1] == null ? null : Arrays.asList((Float[]) c[1])));
    }
    Dataset<Row> table = spark.createDataFrame(rows, ARRAY_TABLE).coalesce(1);
    TableScorer scorer = new TableScorer(spark, ScoreOptions.of(Fixtures.demo().toString(), "features", 4)
        .withBatchSize(4)); // bad rows at the start, middle and end of batches
    Map<Long, Row> got = byId(scorer.score(table));
    assertEquals(cells.length, got.size());
    for (Object[] c : cells) {
      Row r = got.get((Long) c[0]);
      String error = errors.get((Long) c[0]);
      if (error != null) {
        assertTrue(r.isNullAt(3) && r.isNullAt(4), "row " + c[0] + ": null prediction and label");
        assertEquals(error, r.getString(5));
      } else {
        assertNull(r.get(5), "row " + c[0]);
        float[] x = new float[4];
        for (int j = 0; j < 4; j++) {
          x[j] = ((Float[]) c[1])[j];
        }
        float[] want = loopProbs(loop, x, "probs");
        float[] probs = floats(r.getList(3));
        for (int k = 0; k < 3; k++) {
          assertClose(want[k], probs[k], "row " + c[0] + " probs[" + k + "]");
        }
        assertEquals(PartitionScorer.argmax(want), r.getInt(4));
      }
    }
    assertEquals(5, scorer.rowsScored());
    assertEquals(5, scorer.rowsRejected());
  }

  @Test
  @Order(4)
  void aRowTheModelRejectsGetsTheLibraryErrorAndItsBatchIsStillScored() {
    // faulty.pt: forward(x) = x * 2, raising when x.sum() < 0, over the whole batch
    String faulty = Fixtures.models().resolve("faulty.pt").toString();
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < 10; id++) {
      float v = id == 3 || id == 8 ? -100f : id;
      rows.add(RowFactory.create(id, "row-" + id, List.of(v, 1f, v / 2)));
    }
    Dataset<Row> table = spark.createDataFrame(rows, ARRAY_TABLE).coalesce(1);
    TableScorer scorer = new TableScorer(spark,
        new ScoreOptions(faulty, List.of("features"), 3, 4, "0", 1)); // leaf "0": a plain tensor result
    Map<Long, Row> got = byId(scorer.score(table));
    for (long id = 0; id < 10; id++) {
      Row r = got.get(id);
      if (id == 3 || id == 8) {
        assertTrue(r.isNullAt(3) && r.isNullAt(4), "row " + id);
        String error = r.getString(5);
        assertNotNull(error);
        assertTrue(error.startsWith("RUNTIME: ") && error.contains("faulty: input sum must be non-negative"), error);
      } else {
        assertNull(r.get(5), "row " + id + ", in a batch with a rejected row");
        float[] y = floats(r.getList(3));
        assertTrue(Arrays.equals(new float[] {2f * id, 2f, (float) id}, y), "row " + id + ": " + Arrays.toString(y));
        assertEquals(id == 0 ? 1 : 0, r.getInt(4), "row " + id + " label (the first of equal values)");
      }
    }
    assertEquals(8, scorer.rowsScored());
    assertEquals(2, scorer.rowsRejected());
  }

  @Test
  @Order(5)
  void aConfigurationErrorFailsTheJobWithTheLibrarysMessage() {
    List<Row> rows = List.of(RowFactory.create(0L, "row-0", List.of(0.5f, -1f, 2f, 0.1f)));
    TableScorer scorer = new TableScorer(spark,
        ScoreOptions.of(Fixtures.demo().toString(), "features", 4).withLeaf("nope"));
    SparkException e = assertThrows(SparkException.class,
        () -> scorer.score(spark.createDataFrame(rows, ARRAY_TABLE)).collectAsList());
    assertTrue(e.getMessage().contains("TorchInferException: NOT_FOUND"), e.getMessage());
    assertTrue(e.getMessage().contains("nope"), e.getMessage());
  }

  @Test
  @Order(6)
  void closingTheExecutorsModelsLeavesNoLiveHandle() {
    loop.close();
    loop = null;
    ExecutorModels.closeAll();
    assertEquals(0, TorchInfer.liveHandles(), "live native handles after every job and model closed");
    assertFalse(ExecutorModels.loads() == 0);
  }
}
