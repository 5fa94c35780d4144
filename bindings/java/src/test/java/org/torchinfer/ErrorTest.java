package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.torchinfer.TorchInferException.Code;

/** Every C error code reaches Java as a TorchInferException with that code. */
class ErrorTest extends Fixtures {
  private static Model mlp;

  @BeforeAll
  static void load() {
    mlp = Model.load(model("mlp.pt"));
  }

  @AfterAll
  static void unload() {
    mlp.close();
  }

  private static TorchInferException expect(Code code, Executable call) {
    TorchInferException e = assertThrows(TorchInferException.class, call);
    assertEquals(code, e.code(), e.getMessage());
    assertTrue(e.getMessage().startsWith(code.name() + ": "), e.getMessage());
    assertTrue(!e.detail().isEmpty(), "the library's message is carried");
    return e;
  }

  @Test
  void invalidArgument() {
    try (Tensor x = Tensor.of(new float[16], 1, 16)) {
      expect(Code.INVALID_ARGUMENT, () -> mlp.predict(x, x)); // wrong input count
      TorchInferException e = expect(Code.INVALID_ARGUMENT, () -> mlp.predict(Map.of("nope", x)));
      assertTrue(e.detail().contains("x"), "lists the valid names: " + e.detail());
      e = expect(Code.INVALID_ARGUMENT, () -> mlp.runMethod("forward", Map.of("nope", x)));
      assertTrue(e.detail().contains("x"), "lists the valid names: " + e.detail());
    }
    expect(Code.INVALID_ARGUMENT, () -> Tensor.of(new float[3], 2, 2)); // nbytes mismatch
    expect(Code.INVALID_ARGUMENT, () -> Tensor.of(new float[4], -2, -2)); // negative dimension
    expect(Code.INVALID_ARGUMENT, () -> TorchInfer.setNumThreads(0));
    expect(Code.INVALID_ARGUMENT, () -> new LoadOptions().device("not a device"));
  }

  @Test
  void notFound() {
    expect(Code.NOT_FOUND, () -> Model.load(MODELS.resolve("does-not-exist.pt")));
    try (Tensor x = Tensor.of(new float[16], 1, 16); Outputs out = mlp.predict(x)) {
      expect(Code.NOT_FOUND, () -> mlp.runMethod("no_such_method", x));
      expect(Code.NOT_FOUND, () -> mlp.runMethod("no_such_method", Map.of("x", x)));
      TorchInferException e = expect(Code.NOT_FOUND, () -> out.get("logits"));
      assertTrue(e.detail().contains("0"), "lists the leaf names: " + e.detail());
      expect(Code.NOT_FOUND, () -> out.take("logits"));
    }
  }

  @Test
  void modelFormat(@TempDir Path dir) throws IOException {
    expect(Code.MODEL_FORMAT, () -> Model.load(model("newer.pt")));
    Path garbage = dir.resolve("garbage.pt");
    byte[] junk = new byte[4096];
    new java.util.Random(7).nextBytes(junk);
    Files.write(garbage, junk);
    expect(Code.MODEL_FORMAT, () -> Model.load(garbage));
    expect(Code.MODEL_FORMAT, () -> Model.load(junk));
    byte[] full = Files.readAllBytes(model("mlp.pt"));
    byte[] half = java.util.Arrays.copyOf(full, full.length / 2);
    Path truncated = dir.resolve("truncated.pt");
    Files.write(truncated, half);
    expect(Code.MODEL_FORMAT, () -> Model.load(truncated));
    expect(Code.MODEL_FORMAT, () -> Model.load(half));
  }

  @Test
  void runtimeLeavesModelUsable() {
    try (Model faulty = Model.load(model("faulty.pt"));
         Tensor bad = Tensor.of(new float[] {-1, -2}, 2);
         Tensor good = Tensor.of(new float[] {1, 2}, 2)) {
      TorchInferException e = expect(Code.RUNTIME, () -> faulty.predict(bad));
      assertTrue(e.detail().contains("non-negative"), e.detail());
      try (Outputs out = faulty.predict(good)) {
        assertArrayEquals(new float[] {2, 4}, out.get(0).toFloatArray());
      }
    }
    try (Tensor wrongShape = Tensor.of(new float[7], 1, 7)) {
      expect(Code.RUNTIME, () -> mlp.predict(wrongShape));
    }
  }

  @Test
  void outOfMemory() {
    try (Model faulty = Model.load(model("faulty.pt"));
         Tensor huge = Tensor.of(new long[] {1_000_000_000_000_000L});
         Tensor small = Tensor.of(new long[] {3})) {
      expect(Code.OUT_OF_MEMORY, () -> faulty.runMethod("allocate", huge));
      try (Outputs out = faulty.runMethod("allocate", small)) {
        assertArrayEquals(new float[] {1, 1, 1}, out.get(0).toFloatArray());
      }
    }
  }

  @Test
  void device() {
    assumeTrue(TorchInfer.cudaDeviceCount() == 0, "a CUDA device is present");
    LoadOptions cuda = new LoadOptions().device("cuda");
    assertEquals("cuda", cuda.device());
    expect(Code.DEVICE, () -> Model.load(model("mlp.pt"), cuda));
    expect(Code.DEVICE, () -> Model.load(model("mlp.pt"), new LoadOptions().device("cuda:3")));
  }

  @Test
  void unsupported() {
    try (Model structured = Model.load(model("structured.pt"));
         Tensor x = Tensor.of(new float[] {1}, 1)) {
      // a str result is a string leaf since issue 16, no longer UNSUPPORTED
      try (Outputs out = structured.runMethod("text", x)) {
        assertEquals(Outputs.Kind.STRING, out.kind(0));
        assertEquals("not a tensor", out.string(0));
      }
    }
    // a result the C API cannot name: a dict with float keys
    try (Model values = Model.load(model("values.pt"));
         Tensor x = Tensor.of(new float[] {1}, 1)) {
      expect(Code.UNSUPPORTED, () -> values.runMethod("float_keys", x));
    }
    expect(Code.UNSUPPORTED, () -> new LoadOptions().device("mps"));
    // native code refused at load: a .pt2 package, before anything from it is mapped
    expect(Code.UNSUPPORTED, () -> Model.load(model("fake.pt2"), new LoadOptions().allowNativeCode(false)));
  }

  @Test
  void codesMirrorTheCEnum() {
    Code[] expected = {Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.MODEL_FORMAT, Code.RUNTIME,
        Code.OUT_OF_MEMORY, Code.DEVICE, Code.UNSUPPORTED, Code.INTERNAL, Code.CANCELLED,
        Code.DEADLINE_EXCEEDED, Code.UNAVAILABLE};
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], Code.of(i));
      assertEquals(i, expected[i].value());
      // ti_code_name agrees with the enum's name
      String cName = NativeApi.string(NativeApi.ti_code_name(i));
      assertEquals(i == 0 ? "TI_OK" : "TI_ERR_" + expected[i].name(), cName);
    }
    assertEquals(Code.UNKNOWN, Code.of(99));
    assertEquals("TI_ERR_UNKNOWN", NativeApi.string(NativeApi.ti_code_name(expected.length)),
        "the binding knows every code of the library");
  }

  @Test
  void nullArgumentsAreJavaExceptions() {
    assertThrows(NullPointerException.class, () -> Model.load((Path) null));
    assertThrows(NullPointerException.class, () -> mlp.predict((Tensor) null));
    assertThrows(NullPointerException.class, () -> Tensor.of((float[]) null, 1));
  }
}
