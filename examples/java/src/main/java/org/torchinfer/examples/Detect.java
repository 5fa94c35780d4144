package org.torchinfer.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.torchinfer.Model;
import org.torchinfer.Outputs;
import org.torchinfer.Tensor;
import org.torchinfer.TorchInfer;
import org.torchinfer.TorchInferException;

/**
 * Runs a scripted torchvision detection model on two images of different sizes and prints its
 * schema and every result leaf.
 *
 * <pre>
 *   Detect MODEL.pt [OPS_LIBRARY]
 * </pre>
 *
 * The model's code calls torchvision's operators (nms, roi_align), so their library is loaded
 * first: OPS_LIBRARY, or the path in torchvision_ops.txt next to the model (as the test
 * fixtures have it). The images are random pixels in [0, 1] (a real program decodes its own into
 * float32 CHW). The argument {@code images} is a {@code List[Tensor]}: a Java {@code List} of
 * tensors, walked into the paths images.0 and images.1.
 */
public final class Detect {
  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: Detect MODEL.pt [OPS_LIBRARY]");
      System.exit(2);
    }
    Path modelPath = Path.of(args[0]);
    Path ops = args.length > 1 ? Path.of(args[1])
        : Path.of(Files.readString(modelPath.resolveSibling("torchvision_ops.txt")).trim());
    Random random = new Random(7);
    try {
      TorchInfer.loadOpLibrary(ops);
      try (Model model = Model.load(modelPath);
           Tensor a = image(random, 200, 240);
           Tensor b = image(random, 160, 180);
           Outputs out = model.run("forward", Map.of("images", List.of(a, b)))) {
        System.out.println("schema: " + model.schema());
        for (int i = 0; i < out.size(); i++) {
          switch (out.kind(i)) {
            case TENSOR -> System.out.printf("%s: %s %s%n", out.name(i), out.dtype(i).cName(),
                Arrays.toString(out.shape(i)));
            case STRING -> System.out.printf("%s: \"%s\"%n", out.name(i), out.string(i));
            case NONE -> System.out.printf("%s: None%n", out.name(i));
          }
        }
      }
    } catch (TorchInferException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }

  /** A float32 [3, h, w] image of random pixels in [0, 1]. */
  private static Tensor image(Random random, int h, int w) {
    float[] pixels = new float[3 * h * w];
    for (int i = 0; i < pixels.length; i++) pixels[i] = random.nextFloat();
    return Tensor.of(pixels, 3, h, w);
  }
}
