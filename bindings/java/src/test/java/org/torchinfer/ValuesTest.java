package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;
import org.torchinfer.TorchInferException.Code;

/**
 * Structured values (issue 16): every case of values_reference.json set by path through
 * {@link Inputs} and again walked from Java values through {@link Model#run(String, Map)};
 * string and None leaves; every bad input with its code and path; schema, operator libraries,
 * allowNativeCode.
 */
class ValuesTest extends Fixtures {
  private static JsonNode reference;

  @BeforeAll
  static void readReference() throws IOException {
    reference = new ObjectMapper().readTree(MODELS.resolve("values_reference.json").toFile());
  }

  /** The path of torchvision's operator library, or null when the fixtures have none. */
  private static Path opsLibrary() throws IOException {
    Path txt = MODELS.resolve("torchvision_ops.txt");
    return Files.isRegularFile(txt) ? Path.of(Files.readString(txt).trim()) : null;
  }

  private static Tensor tensor(JsonNode e) {
    JsonNode shapeNode = e.get("shape");
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) shape[i] = shapeNode.get(i).asLong();
    JsonNode dataNode = e.get("data");
    double[] data = new double[dataNode.size()];
    for (int i = 0; i < data.length; i++) data[i] = dataNode.get(i).asDouble();
    return Values.tensor(DType.fromName(e.get("dtype").asText()), data, shape);
  }

  // ------------------------------------------------------------------ the reference cases

  @Test
  void referenceHasTheCases() throws IOException {
    List<String> names = new ArrayList<>();
    for (JsonNode c : reference.get("cases")) names.add(c.get("name").asText());
    assertTrue(names.containsAll(List.of("values_all", "values_defaults", "values_none", "values_echo",
        "dict_input")), names.toString());
    if (opsLibrary() != null) {
      assertTrue(names.contains("detection"), "torchvision_ops.txt exists but no detection case");
    }
  }

  @TestFactory
  Stream<DynamicTest> referenceCasesByPath() {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : reference.get("cases")) {
      tests.add(DynamicTest.dynamicTest(c.get("name").asText() + " (Inputs, by path)", () -> {
        long before = TorchInfer.liveHandles();
        runCase(c, false);
        assertEquals(before, TorchInfer.liveHandles(), "handles leaked by case " + c.get("name"));
      }));
      tests.add(DynamicTest.dynamicTest(c.get("name").asText() + " (Model.run, Java values)", () -> {
        long before = TorchInfer.liveHandles();
        runCase(c, true);
        assertEquals(before, TorchInfer.liveHandles(), "handles leaked by case " + c.get("name"));
      }));
    }
    return tests.stream();
  }

  private static void runCase(JsonNode c, boolean walk) throws IOException {
    String name = c.get("name").asText();
    if (c.get("ops").asBoolean()) {
      TorchInfer.loadOpLibrary(opsLibrary());
    }
    List<Tensor> tensors = new ArrayList<>();
    try (Model model = Model.load(MODELS.resolve(c.get("model").asText()))) {
      String method = c.get("method").asText();
      List<Map.Entry<String, Object>> values = new ArrayList<>();
      for (JsonNode in : c.get("inputs")) {
        Object value;
        switch (in.get("kind").asText()) {
          case "tensor" -> {
            Tensor t = tensor(in);
            tensors.add(t);
            value = t;
          }
          case "int" -> value = in.get("value").asLong();
          case "float" -> value = in.get("value").asDouble();
          case "bool" -> value = in.get("value").asBoolean();
          case "string" -> value = in.get("value").asText();
          case "none" -> value = null;
          case "empty" -> value = List.of();
          default -> throw new AssertionError(in.toString());
        }
        values.add(new java.util.AbstractMap.SimpleEntry<>(in.get("path").asText(), value));
      }
      if (walk) {
        try (Outputs out = model.run(method, tree(values))) {
          check(name, c.get("outputs"), out);
        }
      } else {
        try (Inputs inputs = new Inputs(model, method)) {
          for (JsonNode in : c.get("inputs")) {
            String path = in.get("path").asText();
            switch (in.get("kind").asText()) {
              case "tensor" -> {
                try (Tensor t = tensor(in)) {
                  inputs.setTensor(path, t); // the inputs keep their own reference
                }
              }
              case "int" -> inputs.setLong(path, in.get("value").asLong());
              case "float" -> inputs.setDouble(path, in.get("value").asDouble());
              case "bool" -> inputs.setBool(path, in.get("value").asBoolean());
              case "string" -> inputs.setString(path, in.get("value").asText());
              case "none" -> inputs.setNone(path);
              case "empty" -> inputs.setEmpty(path);
              default -> throw new AssertionError(in.toString());
            }
          }
          try (Outputs out = model.run(inputs)) {
            check(name, c.get("outputs"), out);
          }
          // the same inputs again, with a timeout (ti_model_run_inputs under options)
          try (Outputs out = model.run(Duration.ofMinutes(5), inputs)) {
            check(name, c.get("outputs"), out);
          }
        }
      }
    } finally {
      for (Tensor t : tensors) t.close();
    }
  }

  /** Compares every leaf of {@code out} with the reference: names, kinds, values. */
  private static void check(String name, JsonNode expected, Outputs out) {
    List<String> names = new ArrayList<>();
    for (JsonNode e : expected) names.add(e.get("name").asText());
    assertEquals(names, out.names(), name + ": leaf names");
    boolean loose = name.equals("detection");
    for (int i = 0; i < expected.size(); i++) {
      JsonNode e = expected.get(i);
      String leaf = name + "/" + e.get("name").asText();
      switch (e.get("kind").asText()) {
        case "string" -> {
          assertEquals(Outputs.Kind.STRING, out.kind(i), leaf);
          assertEquals(e.get("value").asText(), out.string(i), leaf);
          assertArrayEquals(e.get("value").asText().getBytes(StandardCharsets.UTF_8), out.stringBytes(i), leaf);
          assertFalse(out.isNone(i));
        }
        case "none" -> {
          assertEquals(Outputs.Kind.NONE, out.kind(i), leaf);
          assertTrue(out.isNone(i), leaf);
        }
        case "tensor" -> {
          assertEquals(Outputs.Kind.TENSOR, out.kind(i), leaf);
          Tensor t = out.get(i);
          assertEquals(e.get("dtype").asText(), t.dtype().cName(), leaf + ": dtype");
          JsonNode shapeNode = e.get("shape");
          long[] shape = new long[shapeNode.size()];
          for (int k = 0; k < shape.length; k++) shape[k] = shapeNode.get(k).asLong();
          assertArrayEquals(shape, t.shape(), leaf + ": shape");
          double[] got = Values.doubles(t);
          JsonNode data = e.get("data");
          assertEquals(data.size(), got.length, leaf + ": element count");
          for (int k = 0; k < got.length; k++) {
            double want = data.get(k).asDouble();
            double tol = loose ? 1e-3 + 1e-4 * Math.abs(want) : 1e-6 + 1e-5 * Math.abs(want);
            final int kk = k;
            assertTrue(want == got[k] || Math.abs(want - got[k]) <= tol,
                () -> leaf + "[" + kk + "]: expected " + want + ", got " + got[kk]);
          }
        }
        default -> throw new AssertionError(e.toString());
      }
    }
  }

  /**
   * Rebuilds Java values from (path, value) pairs: a node whose segments are exactly 0..n-1 is a
   * List, any other a Map with String keys (its paths are the same either way: an int dict key
   * is its decimal text). The top level is always the Map of arguments.
   */
  private static Map<String, Object> tree(List<Map.Entry<String, Object>> values) {
    Map<String, Object> top = new LinkedHashMap<>();
    for (Map.Entry<String, Object> v : values) {
      List<String> segments = split(v.getKey());
      Map<String, Object> node = top;
      for (int i = 0; i < segments.size() - 1; i++) {
        @SuppressWarnings("unchecked")
        Map<String, Object> next = (Map<String, Object>) node.computeIfAbsent(segments.get(i),
            k -> new LinkedHashMap<String, Object>());
        node = next;
      }
      node.put(segments.get(segments.size() - 1), v.getValue());
    }
    Map<String, Object> args = new LinkedHashMap<>();
    top.forEach((k, v) -> args.put(k, listsOrMaps(v)));
    return args;
  }

  private static Object listsOrMaps(Object node) {
    if (!(node instanceof Map<?, ?> map)) {
      return node;
    }
    Map<String, Object> converted = new LinkedHashMap<>();
    boolean indices = true;
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String key = (String) e.getKey();
      converted.put(key, listsOrMaps(e.getValue()));
      indices &= key.matches("0|[1-9][0-9]*") && Integer.parseInt(key) < map.size();
    }
    if (!indices) {
      return converted;
    }
    Object[] list = new Object[map.size()];
    converted.forEach((k, v) -> list[Integer.parseInt(k)] = v);
    return Arrays.asList(list);
  }

  /** Splits a path into unescaped segments (test-only: the binding never parses paths). */
  private static List<String> split(String path) {
    List<String> segments = new ArrayList<>();
    StringBuilder seg = new StringBuilder();
    for (int i = 0; i < path.length(); i++) {
      char ch = path.charAt(i);
      if (ch == '\\' && i + 1 < path.length()) {
        seg.append(path.charAt(++i));
      } else if (ch == '.') {
        segments.add(seg.toString());
        seg.setLength(0);
      } else {
        seg.append(ch);
      }
    }
    segments.add(seg.toString());
    return segments;
  }

  @Test
  void escapeKey() {
    assertEquals("p\\.q", Inputs.escapeKey("p.q"));
    assertEquals("a\\\\b", Inputs.escapeKey("a\\b"));
    assertEquals("a\\\\\\.b", Inputs.escapeKey("a\\.b"));
    assertEquals("plain", Inputs.escapeKey("plain"));
    assertEquals(List.of("1", "p.q"), split("1." + Inputs.escapeKey("p.q")));
  }

  // ------------------------------------------------------------------ kinds round trip

  @Test
  void stringsRoundTripWithNulAndNonAscii() {
    try (Model values = Model.load(model("values.pt"))) {
      for (String s : List.of("", "plain", "nul\0inside\0", "ünïcödé ✓ 日本語 😀", "a.b\\c")) {
        try (Outputs out = values.run("echo", Map.of("s", s))) {
          assertEquals(List.of("0"), out.names());
          assertEquals(Outputs.Kind.STRING, out.kind(0));
          assertEquals(s, out.string(0));
          assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), out.stringBytes(0));
        }
        try (Inputs in = new Inputs(values, "echo").setString("s", s.getBytes(StandardCharsets.UTF_8));
             Outputs out = values.run(in)) {
          assertEquals(s, out.string(0));
        }
      }
    }
  }

  /** values.pt with Java values: List of tuples (as Lists), Map<Long/Integer>, Optional, scalars. */
  @Test
  void noneInAndOutEmptyListsAndIntKeys() {
    try (Model values = Model.load(model("values.pt"));
         Tensor a = Tensor.of(new float[] {1, 2}, 2);
         Tensor b = Tensor.of(new float[] {3, 4}, 2);
         Tensor v = Tensor.of(new float[] {0.5f, 0.25f}, 2);
         Tensor maybe = Tensor.of(new float[] {1, -1}, 2)) {
      Map<String, Object> args = new HashMap<>();
      args.put("pairs", List.of(List.of(a, b)));          // 1*3 + 2*4 = 11
      args.put("by_id", Map.of(10L, v));                   // 0.75 + 10
      args.put("text", "hi");
      args.put("words", List.of());                        // empty: no leaf "3.x"
      args.put("maybe", null);                             // None in, None out
      args.put("k", 1);                                    // an Integer as int
      args.put("scale", 2.0f);                             // a Float as float
      try (Outputs out = values.run("forward", args)) {
        assertEquals(List.of("0", "1.p\\.q", "1.n", "2", "4"), out.names());
        assertEquals(23.0, out.toFloatArray(0)[0], 1e-6);  // 11 * 2 + 1
        assertEquals(10.75, out.toFloatArray(out.index("1." + Inputs.escapeKey("p.q")))[0], 1e-6);
        assertArrayEquals(new long[] {1}, out.toLongArray(out.index("1.n")));
        assertEquals("HI!", out.string(out.index("2")));
        int none = out.index("4");
        assertEquals(Outputs.Kind.NONE, out.kind(none));
        assertTrue(out.isNone(none));
        // the tensor accessors on a None or string leaf say what it is
        TorchInferException e = assertThrows(TorchInferException.class, () -> out.get(none));
        assertEquals(Code.INVALID_ARGUMENT, e.code());
        assertThrows(TorchInferException.class, () -> out.toFloatArray(none));
        assertThrows(TorchInferException.class, () -> out.dtype(none));
        assertThrows(TorchInferException.class, () -> out.copyTo(none, new float[0]));
        TorchInferException s = assertThrows(TorchInferException.class, () -> out.shape(out.index("2")));
        assertTrue(s.detail().contains("string"), s.detail());
        assertThrows(TorchInferException.class, () -> out.string(0), "a tensor leaf is not a string");
        assertThrows(IndexOutOfBoundsException.class, () -> out.kind(99));
      }
      // Optional present, Integer keys, Map<Integer>, an empty Map for the dict, Optional.of
      args.put("maybe", Optional.of(maybe));
      args.put("by_id", Map.of(-3, v, 2, v));             // 2 * 0.75 - 3 + 2
      args.put("words", new String[] {"x", "y.z"});       // an array as a list
      args.put("pairs", List.of());
      try (Outputs out = values.run("forward", args)) {
        assertEquals(List.of("0", "1.p\\.q", "1.n", "2", "3.0", "3.1", "4"), out.names());
        assertEquals(1.0, out.toFloatArray(0)[0], 1e-6); // no pairs: 0 * 2 + k
        assertEquals(0.5, out.toFloatArray(1)[0], 1e-6);
        assertArrayEquals(new long[] {2}, out.toLongArray(2));
        assertEquals("y.z", out.string(4));
        assertEquals("x", out.string(5));
        assertEquals(Outputs.Kind.TENSOR, out.kind(6));
        assertArrayEquals(new float[] {2, -2}, out.toFloatArray(6));
      }
      args.put("by_id", Map.of());
      args.put("k", 0L);
      args.put("scale", 1.0);
      try (Outputs out = values.run("forward", args)) {
        assertArrayEquals(new long[] {0}, out.toLongArray(out.index("1.n")));
        assertEquals("HI", out.string(out.index("2")));
      }
    }
  }

  @Test
  void dictInputByPathAndWalked() {
    try (Model dict = Model.load(model("dict_input.pt"));
         Tensor ids = Tensor.of(new long[] {1, 2, 3, 4}, 2, 2);
         Tensor mask = Tensor.of(new long[] {1, 0, 1, 1}, 2, 2)) {
      try (Outputs out = dict.run("forward", Map.of("batch", Map.of("input_ids", ids, "attention_mask", mask)))) {
        assertArrayEquals(new float[] {1, 7}, out.toFloatArray(0));
      }
      // positionally: argument 0
      try (Inputs in = new Inputs(dict).setTensor("0.input_ids", ids).set("0.attention_mask", mask);
           Outputs out = dict.run(in)) {
        assertArrayEquals(new float[] {1, 7}, out.toFloatArray(0));
      }
    }
  }

  // ------------------------------------------------------------------ bad inputs

  /**
   * Expects {@code code} with a message naming the input {@code 'path'} (the deepest part that
   * exists) and, when not null, the {@code 'segment'} below it that does not fit.
   */
  private static TorchInferException expectPath(Code code, String path, String segment, Executable call) {
    TorchInferException e = assertThrows(TorchInferException.class, call);
    assertEquals(code, e.code(), e.getMessage());
    assertTrue(e.detail().contains("'" + path + "'"), "message does not name '" + path + "': " + e.detail());
    if (segment != null) {
      assertTrue(e.detail().contains("'" + segment + "'"),
          "message does not name the segment '" + segment + "': " + e.detail());
    }
    return e;
  }

  @Test
  void setTimeErrorsNameThePathAndLeaveTheInputsUsable() {
    try (Model values = Model.load(model("values.pt"));
         Tensor t = Tensor.of(new float[] {1, 2}, 2);
         Inputs in = new Inputs(values)) {
      TorchInferException unknown = expectPath(Code.INVALID_ARGUMENT, "nope", null, () -> in.setTensor("nope", t));
      assertTrue(unknown.detail().contains("pairs: List[Tuple[Tensor, Tensor]]"),
          "lists the valid arguments: " + unknown.detail());
      expectPath(Code.INVALID_ARGUMENT, "pairs.0", "2", () -> in.setTensor("pairs.0.2", t));   // tuple arity
      expectPath(Code.INVALID_ARGUMENT, "pairs", "x", () -> in.setTensor("pairs.x.0", t));     // not decimal
      expectPath(Code.INVALID_ARGUMENT, "by_id", "abc", () -> in.setTensor("by_id.abc", t));   // not an int key
      expectPath(Code.INVALID_ARGUMENT, "by_id", "True", () -> in.set("by_id", Map.of(true, t)));
      expectPath(Code.INVALID_ARGUMENT, "maybe", "0", () -> in.setTensor("maybe.0", t));       // below a tensor
      expectPath(Code.INVALID_ARGUMENT, "text", "0", () -> in.setString("text.0", "x"));       // below a str
      expectPath(Code.INVALID_ARGUMENT, "maybe", null, () -> in.setString("maybe", "x"));      // str for Tensor
      expectPath(Code.INVALID_ARGUMENT, "by_id", null, () -> in.setTensor("by_id", t));        // tensor for Dict
      expectPath(Code.INVALID_ARGUMENT, "text", null, () -> in.setNone("text"));               // not Optional
      expectPath(Code.INVALID_ARGUMENT, "text", null, () -> in.setEmpty("text"));              // not a container
      expectPath(Code.INVALID_ARGUMENT, "k", null, () -> in.setString("k", "3"));
      expectPath(Code.INVALID_ARGUMENT, "text", null, () -> in.setString("text", new byte[] {'a', (byte) 0xff}));
      // checked by the binding before the library sees them
      expectPath(Code.INVALID_ARGUMENT, "text", null, () -> in.setString("text", "\ud800"));
      assertEquals(Code.INVALID_ARGUMENT, assertThrows(TorchInferException.class, () -> in.setTensor("pa\0irs", t)).code());
      assertThrows(IllegalArgumentException.class, () -> in.set("k", new java.util.Date()));
      assertThrows(IllegalArgumentException.class, () -> in.set("by_id", Map.of(1.5, t)));
      assertThrows(NullPointerException.class, () -> in.setTensor("maybe", null));
      List<Object> cycle = new ArrayList<>();
      cycle.add(cycle);
      assertThrows(IllegalArgumentException.class, () -> in.set("pairs", cycle));
      // after all that, the object is usable
      in.set("pairs", List.of(List.of(t, t))).set("by_id", Map.of(1L, t)).setString("text", "ok")
          .set("words", List.of("w"));
      try (Outputs out = values.run(in)) {
        assertEquals(7.0, out.toFloatArray(0)[0], 1e-6); // 1 + 4 + k=2
        assertEquals("OK!!", out.string(out.index("2")));
      }
    }
  }

  @Test
  void runTimeErrorsNameThePath() {
    try (Model values = Model.load(model("values.pt"));
         Tensor t = Tensor.of(new float[] {1, 2}, 2)) {
      try (Inputs gap = new Inputs(values)) {
        gap.set("pairs.0", List.of(t, t)).set("pairs.2", List.of(t, t)).setEmpty("by_id")
            .setString("text", "").setEmpty("words");
        TorchInferException e = expectPath(Code.INVALID_ARGUMENT, "pairs", null, () -> values.run(gap).close());
        assertTrue(e.detail().contains("2 but not 1"), e.detail());
      }
      try (Inputs missingElement = new Inputs(values)) {
        missingElement.setTensor("pairs.0.0", t).setEmpty("by_id").setString("text", "")
            .setEmpty("words");
        TorchInferException e = expectPath(Code.INVALID_ARGUMENT, "pairs.0", null,
            () -> values.run(missingElement).close());
        assertTrue(e.detail().contains("no element 1"), e.detail());
      }
      try (Inputs required = new Inputs(values)) {
        required.setEmpty("pairs").setEmpty("by_id").setEmpty("words");
        expectPath(Code.INVALID_ARGUMENT, "text", null, () -> values.run(required).close());
        expectPath(Code.INVALID_ARGUMENT, "text", null, () -> values.run(Duration.ofMinutes(1), required).close());
      }
      expectPath(Code.INVALID_ARGUMENT, "text", null,
          () -> values.run("forward", Map.of("pairs", List.of(), "by_id", Map.of(), "words", List.of())).close());
      expectPath(Code.NOT_FOUND, "nope", null, () -> new Inputs(values, "nope"));
      expectPath(Code.NOT_FOUND, "nope", null, () -> values.run("nope", Map.of()));
      // inputs of another model
      try (Model other = Model.load(model("values.pt"));
           Inputs foreign = new Inputs(other, "echo").setString("s", "x")) {
        TorchInferException e = assertThrows(TorchInferException.class, () -> values.run(foreign).close());
        assertEquals(Code.INVALID_ARGUMENT, e.code());
        assertTrue(e.detail().contains("another model"), e.detail());
      }
    }
  }

  // ------------------------------------------------------------------ threads, options, async

  @Test
  void oneInputsSharedByManyThreads() throws Exception {
    try (Model values = Model.load(model("values.pt"));
         Tensor a = Tensor.of(new float[] {1, 2, 3}, 3);
         Inputs in = new Inputs(values)) {
      in.set("pairs", List.of(List.of(a, a))).set("by_id", Map.of(4L, a)).setString("text", "go")
          .set("words", List.of("1", "2")).setTensor("maybe", a).setLong("k", 1);
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<?>> futures = new ArrayList<>();
        for (int th = 0; th < 8; th++) {
          futures.add(pool.submit(() -> {
            for (int i = 0; i < 50; i++) {
              try (Outputs out = values.run(in)) {
                assertEquals(15.0, out.toFloatArray(0)[0], 1e-6);
                assertEquals(10.0, out.toFloatArray(1)[0], 1e-6);
                assertEquals("GO!", out.string(3));
                assertEquals(List.of("0", "1.p\\.q", "1.n", "2", "3.0", "3.1", "4"), out.names());
              }
            }
            return null;
          }));
        }
        for (Future<?> f : futures) f.get();
        // async forms: the Inputs, and Java values (set before runAsync returns)
        try (Outputs out = values.runAsync(pool, in).get()) {
          assertEquals("GO!", out.string(3));
        }
        CompletableFuture<Outputs> f = values.runAsync(pool, "echo", Map.of("s", "async"));
        try (Outputs out = f.get()) {
          assertEquals("async", out.string(0));
        }
        try (RunOptions options = new RunOptions().timeout(Duration.ofMinutes(1));
             Outputs out = values.run("echo", options, Map.of("s", "opts"))) {
          assertEquals("opts", out.string(0));
        }
        try (Outputs out = values.run("echo", Duration.ofMinutes(1), Map.of("s", "timed"))) {
          assertEquals("timed", out.string(0));
        }
        // a value the schema refuses throws at once, from runAsync itself
        assertThrows(TorchInferException.class, () -> values.runAsync(pool, "echo", Map.of("s", a)));
      } finally {
        pool.shutdown();
      }
    }
  }

  @Test
  void inputsKeepTheirModelInUse() {
    Model values = Model.load(model("values.pt"));
    long live = TorchInfer.liveHandles();
    Inputs in = new Inputs(values, "echo").setString("s", "still here");
    values.close();
    assertTrue(values.isClosed());
    assertThrows(IllegalStateException.class, () -> values.run(in));
    assertEquals(live + 1, TorchInfer.liveHandles(), "the model is not freed while inputs need it");
    in.close();
    assertEquals(live - 1, TorchInfer.liveHandles(), "inputs and model freed");
  }

  /** inplace.pt: forward(x) does x.add_(1) and returns x * 2; the caller's data never changes. */
  @Test
  void inputsAreNeverModified() {
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(8).order(java.nio.ByteOrder.nativeOrder());
    buf.putFloat(0, 1).putFloat(4, 2);
    try (Model inplace = Model.load(model("inplace.pt"));
         Tensor x = Tensor.of(new float[] {1, 2}, 1, 2);
         Tensor wrapped = Tensor.wrap(buf, DType.FLOAT32, 1, 2);
         Inputs in = new Inputs(inplace).setTensor("x", x);
         Batcher batcher = new Batcher(inplace)) {
      for (int i = 0; i < 2; i++) {
        try (Outputs a = inplace.predict(x);
             Outputs b = inplace.predict(Duration.ofMinutes(1), wrapped);
             Outputs c = inplace.run("forward", Map.of("x", x));
             Outputs d = inplace.run(in);
             Outputs e = batcher.predict(x)) {
          for (Outputs out : List.of(a, b, c, d, e)) {
            assertArrayEquals(new float[] {4, 6}, out.toFloatArray(0));
          }
        }
        assertArrayEquals(new float[] {1, 2}, x.toFloatArray(), "the input was modified");
        assertArrayEquals(new float[] {1, 2}, wrapped.toFloatArray(), "the wrapped buffer was modified");
        assertEquals(1f, buf.getFloat(0));
      }
    }
  }

  // ------------------------------------------------------------------ schema, ops, native code

  @Test
  void schema() {
    try (Model values = Model.load(model("values.pt"))) {
      String forward = values.schema();
      assertEquals(forward, values.schema("forward"));
      assertTrue(forward.startsWith("forward("), forward);
      for (String arg : List.of("pairs", "by_id", "text", "words", "maybe", "k", "scale")) {
        assertTrue(forward.contains(arg), forward);
      }
      assertFalse(forward.contains("self"), forward);
      String echo = values.schema("echo");
      assertTrue(echo.startsWith("echo(") && echo.contains("str"), echo);
      TorchInferException e = assertThrows(TorchInferException.class, () -> values.schema("nope"));
      assertEquals(Code.NOT_FOUND, e.code());
      assertTrue(e.detail().contains("echo"), e.detail());
      assertEquals(Code.INVALID_ARGUMENT,
          assertThrows(TorchInferException.class, () -> values.schema("ec\0ho")).code());
    }
  }

  @Test
  void opLibraryErrors() throws IOException {
    assertEquals(Code.NOT_FOUND, assertThrows(TorchInferException.class,
        () -> TorchInfer.loadOpLibrary(MODELS.resolve("no_such_library.so"))).code());
    // a file the dynamic loader refuses: the loader's message
    TorchInferException e = assertThrows(TorchInferException.class,
        () -> TorchInfer.loadOpLibrary(MODELS.resolve("mlp.pt")));
    assertEquals(Code.RUNTIME, e.code());
    assertFalse(e.detail().isEmpty());
    Path ops = opsLibrary();
    if (ops != null) {
      TorchInfer.loadOpLibrary(ops);
      TorchInfer.loadOpLibrary(ops); // a no-op the second time
      try (Model detection = Model.load(model("detection.pt"))) {
        assertTrue(detection.schema().contains("images"), detection.schema());
      }
    }
  }

  @Test
  void allowNativeCode() {
    LoadOptions strict = new LoadOptions().allowNativeCode(false);
    assertFalse(strict.allowNativeCode());
    assertTrue(new LoadOptions().allowNativeCode());
    assertEquals("LoadOptions(device=cpu, allowNativeCode=false)", strict.toString());
    TorchInferException e = assertThrows(TorchInferException.class, () -> Model.load(model("fake.pt2"), strict));
    assertEquals(Code.UNSUPPORTED, e.code(), e.getMessage());
    try (Model mlp = Model.load(model("mlp.pt"), strict)) {   // TorchScript is interpreted: it loads
      assertEquals("torchscript", mlp.format());
    }
    assertNotNull(strict.allowNativeCode(true));
  }
}
