package org.torchinfer.examples;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.torchinfer.Model;
import org.torchinfer.Outputs;
import org.torchinfer.Tensor;
import org.torchinfer.TorchInfer;
import org.torchinfer.TorchInferException;

/**
 * Loads a TorchScript model and prints its named outputs for one input row.
 *
 * <pre>
 *   Predict MODEL.pt [VALUE...]
 * </pre>
 *
 * The values (default: 0.5 -1 2 0.1) form a float32 tensor of shape [1, N] passed as the
 * model's first input. Every output leaf is printed with its name, dtype, shape and values.
 * The prediction runs with a 30 s timeout (a server would use its request deadline): past it,
 * the call stops at the model's next operator with DEADLINE_EXCEEDED, and an interrupt of this
 * thread would stop it with CANCELLED.
 */
public final class Predict {
  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: Predict MODEL.pt [VALUE...]");
      System.exit(2);
    }
    float[] values = {0.5f, -1f, 2f, 0.1f};
    if (args.length > 1) {
      values = new float[args.length - 1];
      for (int i = 1; i < args.length; i++) {
        values[i - 1] = Float.parseFloat(args[i]);
      }
    }

    System.out.printf("libtorchinfer %s (LibTorch %s)%n", TorchInfer.version(), TorchInfer.torchVersion());
    try (Model model = Model.load(Path.of(args[0]));
         Tensor input = Tensor.of(values, 1, values.length);
         Outputs outputs = model.predict(Duration.ofSeconds(30), input)) {
      System.out.printf("model %s on %s, inputs: %s%n", args[0], model.device(), String.join(" ", model.inputNames()));
      for (int i = 0; i < outputs.size(); i++) {
        Tensor leaf = outputs.get(i); // owned by outputs: closed with it
        System.out.printf("%s: %s %s = %s%n", outputs.name(i), leaf.dtype().cName(),
            Arrays.toString(leaf.shape()), format(leaf));
      }
    } catch (TorchInferException e) {
      // e.code() says what went wrong (NOT_FOUND, MODEL_FORMAT, RUNTIME, DEADLINE_EXCEEDED, ...)
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }

  private static String format(Tensor t) {
    switch (t.dtype()) {
      case FLOAT32:
        return Arrays.toString(t.toFloatArray());
      case FLOAT64:
        return Arrays.toString(t.toDoubleArray());
      case INT64:
        return Arrays.toString(t.toLongArray());
      case INT32:
        return Arrays.toString(t.toIntArray());
      case BOOL:
        return Arrays.toString(t.toBooleanArray());
      default:
        return "(" + t.dtype().cName() + " data)";
    }
  }
}
