package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Test base: locates the shared fixtures and checks that every test leaves the library's
 * live-handle count where it found it.
 *
 * <p>The fixtures (models/ of a CMake build with tests) are an explicit requirement: without
 * {@code TORCHINFER_TEST_MODELS}, {@code -Dtorchinfer.test.models=DIR} or
 * {@code -Dtorchinfer.build.dir=DIR} every test is skipped with a message saying so, so that a
 * plain {@code mvn install} works for a user who has the library but no fixtures. With
 * {@code -Dtorchinfer.test.require=true} (run-tests.sh) a missing setting fails instead.
 */
@ExtendWith(Fixtures.RequireFixtures.class)
abstract class Fixtures {
  /** TORCHINFER_TEST_MODELS, else -Dtorchinfer.test.models (set by the pom); null when neither. */
  static final Path MODELS = locate();

  private static Path locate() {
    String env = System.getenv("TORCHINFER_TEST_MODELS");
    String prop = System.getProperty("torchinfer.test.models");
    String dir = env != null && !env.isEmpty() ? env : prop;
    return dir == null || dir.isBlank() ? null : Path.of(dir).toAbsolutePath().normalize();
  }

  /**
   * Skips every test class (before any of its @BeforeAll / @AfterAll methods run) when no
   * fixtures are configured, or fails it when they are required but missing.
   */
  static final class RequireFixtures implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      String how = "the JUnit tests need the fixtures of a CMake build (build/models); run"
          + " bindings/java/run-tests.sh, or mvn install -Dtorchinfer.build.dir=/abs/build"
          + " (or -Dtorchinfer.test.models=/abs/build/models, or TORCHINFER_TEST_MODELS)";
      if (MODELS == null) {
        if (Boolean.getBoolean("torchinfer.test.require")) {
          throw new IllegalStateException(
              "torchinfer.test.require is set but no fixtures were given: " + how);
        }
        return ConditionEvaluationResult.disabled("no fixtures configured, test skipped: " + how);
      }
      if (!Files.isRegularFile(MODELS.resolve("reference.json"))) {
        throw new IllegalStateException("fixtures not found: no reference.json in " + MODELS);
      }
      return ConditionEvaluationResult.enabled("fixtures in " + MODELS);
    }
  }

  static Path model(String name) {
    return MODELS.resolve(name);
  }

  private long baseline;

  @BeforeEach
  void recordLiveHandles() {
    baseline = TorchInfer.liveHandles();
  }

  @AfterEach
  void checkLiveHandles() {
    assertEquals(baseline, TorchInfer.liveHandles(), "native handles leaked by this test");
  }
}
