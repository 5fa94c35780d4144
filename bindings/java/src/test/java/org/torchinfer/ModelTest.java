package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Model loading, metadata, named inputs, other methods and structured outputs. */
class ModelTest extends Fixtures {
  private static final float[] X = {1f, -2f, 3.5f, 0.25f, 4f, -1f};

  @Test
  void metadata() {
    try (Model m = Model.load(model("named.pt"))) {
      assertEquals(List.of("ids", "mask", "bias", "scale"), m.inputNames());
      assertEquals("cpu", m.device());
      assertTrue(m.methodNames().contains("forward"), m.methodNames().toString());
    }
    try (Model m = Model.load(model("structured.pt"))) {
      assertEquals(List.of("x"), m.inputNames());
      assertEquals(List.of("dict_out", "forward", "scalars", "text"), m.methodNames());
    }
  }

  @Test
  void format() {
    try (Model m = Model.load(model("mlp.pt"))) {
      assertEquals("torchscript", m.format());
    }
    assumeTrue(Files.exists(model("dynamic.pt2")),
        "dynamic.pt2 is not in the fixtures (LibTorch without AOTInductor packages, e.g. 1.13)");
    try (Model m = Model.load(model("dynamic.pt2"));
         Tensor x = Tensor.of(new float[3 * 8], 3, 8);
         Tensor y = Tensor.of(new float[5 * 4], 5, 4)) {
      assertEquals("aotinductor", m.format());
      assertEquals(List.of("x", "y"), m.inputNames());
      TorchInferException e = assertThrows(TorchInferException.class, () -> m.predict(x, y).close());
      assertEquals(TorchInferException.Code.INVALID_ARGUMENT, e.code(), e.getMessage());
      assertTrue(e.detail().contains("input 'y'"), e.getMessage());
    }
  }

  @Test
  void nestedOutputsByName() {
    try (Model m = Model.load(model("structured.pt"));
         Tensor x = Tensor.of(X, 2, 3);
         Outputs out = m.predict(x)) {
      assertEquals(3, out.size());
      assertEquals(List.of("0", "1.0", "1.1"), out.names());
      assertEquals("1.1", out.name(2));
      assertArrayEquals(new float[] {2f, -1f, 4.5f, 1.25f, 5f, 0f}, out.get("0").toFloatArray());
      assertArrayEquals(new float[] {2f, -4f, 7f, 0.5f, 8f, -2f}, out.get("1.0").toFloatArray());
      Tensor sum = out.get("1.1");
      assertArrayEquals(new long[0], sum.shape());
      assertArrayEquals(new float[] {5.75f}, sum.toFloatArray());
      assertSame(out.get(1), out.get(1), "get(i) returns the same owned tensor");
      assertThrows(IndexOutOfBoundsException.class, () -> out.get(3));
      assertThrows(IndexOutOfBoundsException.class, () -> out.name(-1));
    }
  }

  @Test
  void dictOutputsAndScalars() {
    try (Model m = Model.load(model("structured.pt"));
         Tensor x = Tensor.of(X, 2, 3);
         Outputs dict = m.runMethod("dict_out", x);
         Outputs scalars = m.runMethod("scalars", x)) {
      assertEquals(List.of("boxes.0", "boxes.1", "boxes.2", "scores.0"), dict.names());
      assertArrayEquals(X, dict.get("boxes.0").toFloatArray());
      assertArrayEquals(new float[] {3f, 0f, 5.5f, 2.25f, 6f, 1f}, dict.get("boxes.2").toFloatArray());
      assertArrayEquals(new float[] {5.75f}, dict.get("scores.0").toFloatArray());

      assertEquals(List.of("0", "1", "2"), scalars.names());
      assertEquals(DType.INT64, scalars.get("0").dtype());
      assertArrayEquals(new long[] {6}, scalars.get("0").toLongArray());
      assertEquals(DType.FLOAT64, scalars.get("1").dtype());
      assertArrayEquals(new double[] {5.75}, scalars.get("1").toDoubleArray());
      assertEquals(DType.BOOL, scalars.get("2").dtype());
      assertArrayEquals(new boolean[] {true}, scalars.get("2").toBooleanArray());
    }
  }

  @Test
  void namedInputsInAnyOrder() {
    try (Model m = Model.load(model("named.pt"));
         Tensor ids = Tensor.of(new float[] {1, 2, 3}, 1, 3);
         Tensor mask = Tensor.of(new float[] {1, 0, 1}, 1, 3);
         Tensor bias = Tensor.of(new float[] {0.5f, 0.5f, 0.5f}, 1, 3);
         Tensor scale = Tensor.of(new double[] {3.0})) {
      Map<String, Tensor> in = new LinkedHashMap<>();
      in.put("mask", mask);
      in.put("bias", bias);
      in.put("ids", ids);
      try (Outputs out = m.predict(in)) {
        assertArrayEquals(new float[] {1.5f, 0.5f, 3.5f}, out.get(0).toFloatArray());
      }
      try (Outputs out = m.predict(Map.of("scale", scale, "ids", ids, "mask", mask))) {
        assertArrayEquals(new float[] {3f, 0f, 9f}, out.get("0").toFloatArray());
      }
      try (Outputs out = m.predict(ids, mask)) { // defaults for bias and scale
        assertArrayEquals(new float[] {1f, 0f, 3f}, out.get(0).toFloatArray());
      }
    }
  }

  @Test
  void secondMethod() {
    try (Model m = Model.load(model("identity.pt"));
         Tensor x = Tensor.of(new float[] {1, 2, 3}, 3);
         Outputs fwd = m.runMethod("forward", x);
         Outputs twice = m.runMethod("double", x)) {
      assertEquals(List.of("double", "forward"), m.methodNames());
      assertArrayEquals(new float[] {1, 2, 3}, fwd.get(0).toFloatArray());
      assertArrayEquals(new float[] {2, 4, 6}, twice.get(0).toFloatArray());
    }
  }

  @Test
  void secondMethodWithNamedInputs() {
    long start = TorchInfer.liveHandles();
    try (Model m = Model.load(model("identity.pt"));
         Tensor x = Tensor.of(new float[] {2, 3}, 2)) {
      try (Outputs out = m.runMethod("double", Map.of("x", x))) {
        assertEquals(List.of("0"), out.names());
        Tensor y = out.get("0");
        assertEquals(DType.FLOAT32, y.dtype());
        assertArrayEquals(new long[] {2}, y.shape());
        assertArrayEquals(new float[] {4, 6}, y.toFloatArray());
      }
      assertArrayEquals(new float[] {2, 3}, x.toFloatArray(), "the input is left as it was");
      TorchInferException unknownName = assertThrows(TorchInferException.class,
          () -> m.runMethod("double", Map.of("y", x)));
      assertEquals(TorchInferException.Code.INVALID_ARGUMENT, unknownName.code(),
          unknownName.getMessage());
      assertTrue(unknownName.detail().contains("x"), "lists the valid names: " + unknownName.detail());
      TorchInferException unknownMethod = assertThrows(TorchInferException.class,
          () -> m.runMethod("no_such_method", Map.of("x", x)));
      assertEquals(TorchInferException.Code.NOT_FOUND, unknownMethod.code(),
          unknownMethod.getMessage());
      assertFalse(x.isClosed(), "runMethod never closes its inputs");
    }
    assertEquals(start, TorchInfer.liveHandles(), "native handles leaked");
  }

  @Test
  void loadFromBytesMatchesLoadFromPath() throws IOException {
    byte[] bytes = Files.readAllBytes(model("mlp.pt"));
    float[] input = new float[16];
    for (int i = 0; i < 16; i++) input[i] = (i - 8) / 4f;
    try (Model fromFile = Model.load(model("mlp.pt"));
         Model fromBytes = Model.load(bytes, new LoadOptions().device("cpu"));
         Tensor x = Tensor.of(input, 1, 16);
         Outputs a = fromFile.predict(x);
         Outputs b = fromBytes.predict(x)) {
      java.util.Arrays.fill(bytes, (byte) 0); // the library copied what it needs
      assertEquals(List.of("x"), fromBytes.inputNames());
      assertArrayEquals(new long[] {1, 4}, b.get(0).shape());
      assertArrayEquals(a.get(0).toFloatArray(), b.get(0).toFloatArray());
    }
  }

  @Test
  void takeOutlivesOutputsAndModel() {
    Tensor kept;
    Tensor owned;
    try (Model m = Model.load(model("identity.pt"));
         Tensor x = Tensor.of(new int[] {7, 8}, 2);
         Outputs out = m.runMethod("double", x)) {
      kept = out.take(0);
      owned = out.get(0);
      assertNotSame(kept, owned);
      try (Tensor byName = out.take("0")) {
        assertArrayEquals(new int[] {14, 16}, byName.toIntArray());
      }
    }
    assertTrue(owned.isClosed(), "closing Outputs closes the tensors get() returned");
    assertThrows(IllegalStateException.class, owned::toIntArray);
    try (kept) {
      assertArrayEquals(new int[] {14, 16}, kept.toIntArray());
    }
  }

  @Test
  void libraryInfo() {
    assertEquals("0.1.0", TorchInfer.version());
    assertTrue(TorchInfer.torchVersion().matches("\\d+\\.\\d+.*"), TorchInfer.torchVersion());
    assertTrue(TorchInfer.cudaDeviceCount() >= 0);
    int before = TorchInfer.numThreads();
    assertTrue(before >= 1);
    TorchInfer.setNumThreads(1);
    assertEquals(1, TorchInfer.numThreads());
    TorchInfer.setNumThreads(before);
    assertEquals(before, TorchInfer.numThreads());
  }
}
