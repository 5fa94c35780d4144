package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** One model shared by many threads; close() racing with use. */
class ConcurrencyTest extends Fixtures {
  private static final int THREADS = 16;

  private static float[] row(int seed) {
    float[] x = new float[16];
    for (int i = 0; i < 16; i++) x[i] = (float) Math.sin(seed * 16 + i);
    return x;
  }

  @Test
  void sixteenThreadsShareOneModel() throws Exception {
    int inputs = 8;
    int iterations = 200;
    try (Model model = Model.load(model("mlp.pt"))) {
      // single-threaded reference
      float[][] expected = new float[inputs][];
      for (int k = 0; k < inputs; k++) {
        try (Tensor x = Tensor.of(row(k), 1, 16); Outputs out = model.predict(x)) {
          expected[k] = out.get(0).toFloatArray();
        }
      }
      // one tensor shared by every thread, too
      try (Tensor shared = Tensor.of(row(0), 1, 16)) {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> futures = new ArrayList<>();
        try {
          for (int t = 0; t < THREADS; t++) {
            final int id = t;
            futures.add(pool.submit(() -> {
              start.await();
              int checked = 0;
              for (int i = 0; i < iterations; i++) {
                int k = (id + i) % inputs;
                try (Tensor x = Tensor.of(row(k), 1, 16); Outputs out = model.predict(x)) {
                  assertArrayEquals(expected[k], out.get(0).toFloatArray(), "thread " + id + " input " + k);
                }
                try (Outputs out = model.predict(shared)) {
                  assertArrayEquals(expected[0], out.get("0").toFloatArray());
                }
                checked += 2;
              }
              return checked;
            }));
          }
          start.countDown();
          int total = 0;
          for (Future<Integer> f : futures) total += f.get(120, TimeUnit.SECONDS);
          assertEquals(THREADS * iterations * 2, total);
        } finally {
          pool.shutdownNow();
          assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
        }
      }
    }
  }

  @Test
  void closeRacingWithPredictDoesNotCrash() throws Exception {
    float[] expected;
    try (Model m = Model.load(model("mlp.pt")); Tensor x = Tensor.of(row(1), 1, 16); Outputs o = m.predict(x)) {
      expected = o.get(0).toFloatArray();
    }
    for (int round = 0; round < 5; round++) {
      Model model = Model.load(model("mlp.pt"));
      Tensor x = Tensor.of(row(1), 1, 16);
      AtomicInteger ok = new AtomicInteger();
      AtomicInteger closedSeen = new AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(8);
      CountDownLatch running = new CountDownLatch(8);
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        futures.add(pool.submit(() -> {
          running.countDown();
          for (int i = 0; i < 100_000; i++) {
            try (Outputs out = model.predict(x)) {
              assertArrayEquals(expected, out.get(0).toFloatArray());
              ok.incrementAndGet();
            } catch (IllegalStateException closed) {
              closedSeen.incrementAndGet();
              return null;
            }
          }
          return null;
        }));
      }
      running.await();
      for (int i = 0; i < 2000 && ok.get() < 8; i++) {
        Thread.sleep(5);
      }
      // close both the model and the shared input while predictions are in flight
      if (round % 2 == 0) {
        model.close();
        x.close();
      } else {
        x.close();
        model.close();
      }
      for (Future<?> f : futures) f.get(120, TimeUnit.SECONDS);
      pool.shutdown();
      assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
      assertTrue(ok.get() > 0, "some predictions ran before close");
      assertEquals(8, closedSeen.get(), "every thread saw IllegalStateException after close");
    }
  }
}
