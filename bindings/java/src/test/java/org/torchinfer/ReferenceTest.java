package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every case of the shared reference.json: leaf names, dtypes, shapes and values. */
class ReferenceTest extends Fixtures {
  private static JsonNode cases() throws IOException {
    return new ObjectMapper().readTree(MODELS.resolve("reference.json").toFile()).get("cases");
  }

  @Test
  void referenceHasCases() throws IOException {
    assertTrue(cases().size() >= 12, "reference.json has " + cases().size() + " cases");
  }

  @TestFactory
  Stream<DynamicTest> allCases() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : cases()) {
      tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
        long before = TorchInfer.liveHandles();
        runCase(c);
        assertEquals(before, TorchInfer.liveHandles(), "handles leaked by case " + c.get("name"));
      }));
    }
    return tests.stream();
  }

  private static long[] shape(JsonNode node) {
    long[] s = new long[node.size()];
    for (int i = 0; i < s.length; i++) s[i] = node.get(i).asLong();
    return s;
  }

  private static double[] data(JsonNode node) {
    double[] d = new double[node.size()];
    for (int i = 0; i < d.length; i++) d[i] = node.get(i).asDouble();
    return d;
  }

  private static void runCase(JsonNode c) {
    String name = c.get("name").asText();
    String method = c.get("method").asText();
    boolean named = c.get("named").asBoolean();
    List<Tensor> inputs = new ArrayList<>();
    Map<String, Tensor> byName = new LinkedHashMap<>();
    try (Model model = Model.load(MODELS.resolve(c.get("model").asText()))) {
      for (JsonNode in : c.get("inputs")) {
        Tensor t = Values.tensor(DType.fromName(in.get("dtype").asText()), data(in.get("data")), shape(in.get("shape")));
        inputs.add(t);
        byName.put(in.get("name").asText(), t);
      }
      Tensor[] positional = inputs.toArray(new Tensor[0]);
      try (Outputs out = named ? model.predict(byName)
          : method.equals("forward") ? model.predict(positional)
          : model.runMethod(method, positional)) {
        JsonNode expected = c.get("outputs");
        List<String> names = new ArrayList<>();
        for (JsonNode e : expected) names.add(e.get("name").asText());
        assertEquals(names, out.names(), name + ": leaf names");
        assertEquals(expected.size(), out.size(), name + ": leaf count");
        for (int i = 0; i < expected.size(); i++) {
          JsonNode e = expected.get(i);
          Tensor byIndex = out.get(i);
          Tensor t = out.get(e.get("name").asText());
          String leaf = name + "/" + e.get("name").asText();
          assertEquals(e.get("dtype").asText(), t.dtype().cName(), leaf + ": dtype");
          assertArrayEquals(shape(e.get("shape")), t.shape(), leaf + ": shape");
          double[] want = data(e.get("data"));
          double[] got = Values.doubles(t);
          assertArrayEquals(got, Values.doubles(byIndex), leaf + ": get(i) and get(name) differ");
          assertEquals(want.length, got.length, leaf + ": element count");
          for (int k = 0; k < want.length; k++) {
            final int kk = k;
            assertTrue(Values.close(want[k], got[k]),
                () -> leaf + "[" + kk + "]: expected " + want[kk] + ", got " + got[kk]);
          }
        }
      }
    } finally {
      for (Tensor t : inputs) t.close();
    }
  }
}
