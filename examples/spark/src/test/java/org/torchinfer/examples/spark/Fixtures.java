package org.torchinfer.examples.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/** The shared fixtures (build/models) and reference values the tests compare against. */
final class Fixtures {
  private Fixtures() {}

  static Path models() {
    String dir = System.getProperty("torchinfer.test.models", "");
    if (dir.isEmpty() || !Files.isRegularFile(Path.of(dir, "demo.pt"))) {
      throw new IllegalStateException("no fixtures: set -Dtorchinfer.test.models=DIR (models/ of a build with "
          + "tests) or TORCHINFER_TEST_MODELS for run-tests.sh; got '" + dir + "'");
    }
    return Path.of(dir);
  }

  static Path demo() {
    return models().resolve("demo.pt");
  }

  /** reference.json's "demo" case: PyTorch's outputs for one row. */
  record DemoCase(float[] features, float[] logits, float[] probs) {}

  static DemoCase demoCase() throws IOException {
    JsonNode cases = new ObjectMapper().readTree(models().resolve("reference.json").toFile()).get("cases");
    for (JsonNode c : cases) {
      if (c.get("name").asText().equals("demo") && c.get("model").asText().equals("demo.pt")) {
        float[] logits = null;
        float[] probs = null;
        for (JsonNode out : c.get("outputs")) {
          if (out.get("name").asText().equals("logits")) {
            logits = floats(out.get("data"));
          } else if (out.get("name").asText().equals("probs")) {
            probs = floats(out.get("data"));
          }
        }
        return new DemoCase(floats(c.get("inputs").get(0).get("data")), logits, probs);
      }
    }
    throw new IllegalStateException("reference.json has no demo case");
  }

  private static float[] floats(JsonNode data) {
    float[] v = new float[data.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) data.get(i).asDouble();
    }
    return v;
  }

  /**
   * demo.pt computed without LibTorch: softmax(x W^T + b) in double, from the weight [3, 4] and
   * bias [3] stored in the TorchScript archive (the only two storages, data/0 and data/1: 48 and
   * 12 bytes of little-endian float32). {@link #demoCase()} checks it against PyTorch.
   */
  static final class DemoWeights {
    final float[] weight = new float[12];
    final float[] bias = new float[3];

    DemoWeights() throws IOException {
      List<byte[]> storages = new ArrayList<>();
      try (ZipFile zip = new ZipFile(demo().toFile())) {
        for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
          ZipEntry entry = e.nextElement();
          if (entry.getName().matches(".*/data/[0-9]+")) {
            storages.add(zip.getInputStream(entry).readAllBytes());
          }
        }
      }
      byte[] w = storages.stream().filter(b -> b.length == 48).findFirst().orElse(null);
      byte[] b = storages.stream().filter(s -> s.length == 12).findFirst().orElse(null);
      if (storages.size() != 2 || w == null || b == null) {
        throw new IllegalStateException("demo.pt does not hold one 48-byte and one 12-byte storage");
      }
      ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(weight);
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(bias);
    }

    double[] probs(float[] x) {
      double[] logits = new double[3];
      double max = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < 3; k++) {
        double s = bias[k];
        for (int j = 0; j < 4; j++) {
          s += (double) weight[k * 4 + j] * x[j];
        }
        logits[k] = s;
        max = Math.max(max, s);
      }
      double sum = 0;
      for (int k = 0; k < 3; k++) {
        logits[k] = Math.exp(logits[k] - max);
        sum += logits[k];
      }
      for (int k = 0; k < 3; k++) {
        logits[k] /= sum;
      }
      return logits;
    }
  }
}
