package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** close() semantics, use after close, and leaks: explicit close and the Cleaner. */
class LifecycleTest extends Fixtures {

  @Test
  void closeIsIdempotent() {
    Model m = Model.load(model("mlp.pt"));
    Tensor x = Tensor.of(new float[16], 1, 16);
    Outputs out = m.predict(x);
    Tensor y = out.get(0);
    long live = TorchInfer.liveHandles();
    out.close();
    assertEquals(live - 2, TorchInfer.liveHandles(), "outputs and its tensor freed");
    out.close();
    y.close();
    x.close();
    x.close();
    m.close();
    m.close();
    assertEquals(live - 4, TorchInfer.liveHandles());
    assertTrue(m.isClosed() && x.isClosed() && y.isClosed() && out.isClosed());
  }

  @Test
  void useAfterCloseThrowsIllegalState() {
    Model m = Model.load(model("identity.pt"));
    Tensor x = Tensor.of(new float[] {1, 2}, 2);
    Outputs out = m.predict(x);
    Tensor y = out.get(0);
    assertFalse(m.isClosed());

    out.close();
    assertThrows(IllegalStateException.class, () -> out.get(0));
    assertThrows(IllegalStateException.class, () -> out.get("0"));
    assertThrows(IllegalStateException.class, out::size);
    assertThrows(IllegalStateException.class, () -> out.take(0));
    assertThrows(IllegalStateException.class, y::toFloatArray);
    assertThrows(IllegalStateException.class, y::dtype);

    x.close();
    assertThrows(IllegalStateException.class, () -> m.predict(x));
    assertThrows(IllegalStateException.class, x::toFloatArray);
    assertThrows(IllegalStateException.class, x::device);
    // shape and dtype of an input were recorded at creation, but closed is closed
    assertThrows(IllegalStateException.class, x::shape);
    assertThrows(IllegalStateException.class, x::dtype);

    m.close();
    try (Tensor z = Tensor.of(new float[] {1}, 1)) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.predict(z));
      assertEquals("Model is closed", e.getMessage());
      assertThrows(IllegalStateException.class, () -> m.runMethod("double", z));
      assertThrows(IllegalStateException.class, () -> m.predict(Map.of("x", z)));
    }
  }

  @Test
  void tenThousandCyclesLeaveNoHandles() {
    float[] input = new float[16];
    for (int i = 0; i < 16; i++) input[i] = i / 16f;
    float[] first = null;
    try (Model m = Model.load(model("mlp.pt"))) {
      for (int i = 0; i < 10_000; i++) {
        try (Tensor x = Tensor.of(input, 1, 16); Outputs out = m.predict(x)) {
          float[] y = out.get(0).toFloatArray();
          try (Tensor taken = out.take("0")) {
            assertEquals(4, taken.toFloatArray().length);
          }
          if (first == null) {
            first = y;
          } else if (i % 1000 == 0) {
            assertArrayEquals(first, y);
          }
        }
      }
    }
    assertEquals(0, TorchInfer.liveHandles(), "nothing alive after closing everything");
  }

  @Test
  void cleanerReclaimsUnclosedHandles() throws InterruptedException {
    long baseline = TorchInfer.liveHandles();
    int cleanedBefore = NativeHandle.freedByCleaner();
    java.util.List<Object> strong = new java.util.ArrayList<>();
    dropUnclosed(500, strong);
    long leaked = TorchInfer.liveHandles() - baseline;
    assertEquals(1 + 500 * 3 + 1, leaked, "model, 500 x (input, outputs, leaf), wrapped tensor");
    int pinned = Tensor.pinnedBuffers();
    assertTrue(pinned >= 1);
    strong.clear(); // now nothing references them, and none was closed

    // Bounded: up to ~20 s of GC + Cleaner before declaring a leak.
    for (int i = 0; i < 200 && TorchInfer.liveHandles() != baseline; i++) {
      System.gc();
      Thread.sleep(100);
    }
    assertEquals(baseline, TorchInfer.liveHandles(), "the Cleaner freed every dropped handle");
    assertTrue(NativeHandle.freedByCleaner() - cleanedBefore >= leaked,
        "counted " + (NativeHandle.freedByCleaner() - cleanedBefore) + " frees by the Cleaner");
    assertEquals(pinned - 1, Tensor.pinnedBuffers(), "the wrapped buffer was released");
  }

  @Test
  void leafKeepsItsUnclosedOutputsAlive() throws InterruptedException {
    long baseline = TorchInfer.liveHandles();
    try (Model m = Model.load(model("identity.pt")); Tensor x = Tensor.of(new float[] {1, 2, 3}, 3)) {
      useLeafOfDroppedOutputs(m, x, baseline);
    }
    for (int i = 0; i < 200 && TorchInfer.liveHandles() != baseline; i++) {
      System.gc();
      Thread.sleep(100);
    }
    assertEquals(baseline, TorchInfer.liveHandles(), "the Cleaner freed the dropped Outputs");
  }

  /** In its own frame, so that no stale local keeps the leaf (and so the Outputs) reachable. */
  private static void useLeafOfDroppedOutputs(Model m, Tensor x, long baseline) throws InterruptedException {
    Tensor leaf = leafOfDroppedOutputs(m, x);
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(20);
    }
    // the Outputs object is only reachable through the leaf: neither may have been freed
    assertEquals(baseline + 4, TorchInfer.liveHandles(), "model, input, outputs, leaf");
    assertArrayEquals(new float[] {2, 4, 6}, leaf.toFloatArray());
    leaf.close();
    assertEquals(baseline + 3, TorchInfer.liveHandles());
  }

  private static Tensor leafOfDroppedOutputs(Model m, Tensor x) {
    Outputs out = m.runMethod("double", x);
    return out.get(0);
  }

  /** Makes handles without closing them; only {@code strong} references them afterwards. */
  private static void dropUnclosed(int n, java.util.List<Object> strong) {
    Model m = Model.load(model("mlp.pt"));
    strong.add(m);
    for (int i = 0; i < n; i++) {
      Tensor x = Tensor.of(new float[16], 1, 16);
      Outputs out = m.predict(x);
      assertEquals(4, out.get(0).toFloatArray().length);
      strong.add(x);
      strong.add(out);
    }
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(16).order(java.nio.ByteOrder.nativeOrder());
    strong.add(Tensor.wrap(buf, DType.INT32, 4));
  }
}
