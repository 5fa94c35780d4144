package org.torchinfer.examples.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.SparkFiles;
import org.torchinfer.Model;
import org.torchinfer.TorchInfer;

/**
 * One {@link Model} per model file per JVM: on a cluster, one per executor, loaded by the first
 * task that needs it and shared by every task the executor runs, concurrently (a Model is safe to
 * share between threads), and closed when the JVM exits. In local mode the driver is the
 * executor, so it is one per application.
 *
 * <p>Static, because Spark builds nothing per executor for us: the scoring function is
 * deserialized once per task, so a model held in it would be loaded once per task (per partition).
 */
public final class ExecutorModels {
  private static final Map<String, Model> MODELS = new HashMap<>();
  private static int loads;
  private static boolean hookInstalled;

  private ExecutorModels() {}

  /**
   * The model for {@code model} (see {@link ScoreOptions#model()}), loaded on first use. The
   * first load also sets the JVM's intra-op thread count. Tasks waiting for a load wait on one
   * lock; once loaded, a call costs a map lookup under that lock, once per partition.
   */
  public static synchronized Model get(String model, int intraOpThreads) {
    String file = resolve(model);
    Model m = MODELS.get(file);
    if (m == null) {
      if (MODELS.isEmpty()) {
        TorchInfer.setNumThreads(intraOpThreads);
      }
      m = Model.load(Path.of(file));
      MODELS.put(file, m);
      loads++;
      if (!hookInstalled) {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "torchinfer-close-models"));
        hookInstalled = true;
      }
    }
    return m;
  }

  /**
   * Closes every model of this JVM (the shutdown hook calls it). Predictions still running
   * finish first (the binding frees a model when its last call returns); later ones get
   * IllegalStateException, and the next {@link #get} loads the model again.
   */
  public static synchronized void closeAll() {
    MODELS.values().forEach(Model::close);
    MODELS.clear();
  }

  /** How many times a model was loaded in this JVM (for tests: one per file, whatever the task count). */
  public static synchronized int loads() {
    return loads;
  }

  /** A readable path as given, else a file shipped with --files / SparkContext.addFile. */
  static String resolve(String model) {
    if (Files.isRegularFile(Path.of(model))) {
      return Path.of(model).toAbsolutePath().toString();
    }
    String shipped = null;
    try {
      shipped = SparkFiles.get(Path.of(model).getFileName().toString());
    } catch (RuntimeException e) {
      // no SparkEnv in this JVM (not inside a Spark application): nothing shipped
    }
    if (shipped != null && Files.isRegularFile(Path.of(shipped))) {
      return shipped;
    }
    throw new IllegalArgumentException("model file " + model + " not found on this executor: give a path every "
        + "executor can read, or ship the file with spark-submit --files and name it by its file name");
  }
}
