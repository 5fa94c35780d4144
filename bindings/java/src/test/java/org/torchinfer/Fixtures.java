package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Test base: locates the shared fixtures and checks that every test leaves the library's
 * live-handle count where it found it.
 */
abstract class Fixtures {
  /** TORCHINFER_TEST_MODELS, else -Dtorchinfer.test.models (set by the pom), else ../../build/models. */
  static final Path MODELS = locate();

  private static Path locate() {
    String env = System.getenv("TORCHINFER_TEST_MODELS");
    String prop = System.getProperty("torchinfer.test.models");
    Path dir = env != null && !env.isEmpty() ? Path.of(env)
        : prop != null && !prop.isEmpty() ? Path.of(prop)
        : Path.of("..", "..", "build", "models");
    dir = dir.toAbsolutePath().normalize();
    assertTrue(Files.isRegularFile(dir.resolve("reference.json")),
        "fixtures not found in " + dir + " (build the library, or set TORCHINFER_TEST_MODELS)");
    return dir;
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
