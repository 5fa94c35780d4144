package org.torchinfer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The arguments of one method call, of any TorchScript type, set by path
 * ({@code ti_inputs_t}): lists, tuples, dicts, Optional, str, int, float, bool and tensors,
 * nested to any depth. Every value is built from the method's declared types, never guessed from
 * what was set: an empty list has the declared element type, a tuple is a tuple whatever its
 * length.
 *
 * <pre>{@code
 * try (Inputs in = new Inputs(model, "forward")
 *          .setTensor("pairs.0.0", a).setTensor("pairs.0.1", b)
 *          .set("by_id", Map.of(7L, c))          // walked into by_id.7
 *          .setString("text", "hello")
 *          .setLong("k", 3);
 *      Outputs out = model.run(in)) { ... }
 * }</pre>
 *
 * <p><b>Paths.</b> Segments joined by "."; the first is the argument's name or its position in
 * decimal ("images", "0"); then a list or tuple index in decimal, or a dict key: a str key as its
 * text, an int key in decimal ("by_id.-1"), a bool key "True" / "False". Inside a segment
 * {@code \.} is a literal dot and {@code \\} a backslash: {@link #escapeKey(String)} escapes a
 * str key. Optional adds no segment. Output leaf names ({@link Outputs#names()}) use the same
 * grammar.
 *
 * <p><b>Checks.</b> Each setter checks the path and the value against the method's schema and
 * throws {@link TorchInferException.Code#INVALID_ARGUMENT} naming the path and the declared type
 * (an unknown argument, an index past a tuple's arity, a key that does not parse as the dict's
 * key type, a string for a tensor, None where the type is not Optional, ...); a failed set leaves
 * the object as it was. A list with a gap, a tuple with a missing element or a required argument
 * not set fails the run, naming the path. An argument not set takes its default. Setting a path
 * again replaces its value and everything below it.
 *
 * <p><b>Ownership and threads.</b> Tensors set are referenced, not copied: the caller may close
 * them at once (a model that writes to an argument gets a private copy, so the caller's data is
 * never modified). The setters are not synchronized. Once set, any number of threads may pass one
 * Inputs to {@link Model#run(Inputs)} at the same time (a run only reads it). The Inputs keep
 * their model in use: closing the model first marks it closed, and the native model is freed
 * when the last Inputs (and {@link Batcher}) made from it is closed. After {@link #close()} every
 * method but {@code close()}, {@code isClosed()} and {@code toString()} throws
 * {@link IllegalStateException}.
 */
public final class Inputs extends NativeHandle {
  /** How deep {@link #set(String, Object)} walks nested containers (a cycle would never end). */
  static final int MAX_DEPTH = 64;

  private final Model model;
  private final String method;

  /** Empty arguments for {@code forward} of {@code model}. */
  public Inputs(Model model) {
    this(model, "forward");
  }

  /**
   * Empty arguments for {@code method} of {@code model}.
   *
   * @throws TorchInferException NOT_FOUND when the model has no such method, INVALID_ARGUMENT for
   *     a method name with a NUL character
   * @throws IllegalStateException if the model is closed
   */
  public Inputs(Model model, String method) {
    super(open(model, method), HandleKind.INPUTS, Objects.requireNonNull(model, "model")::release);
    this.model = model;
    this.method = method;
  }

  /** Acquires the model (released after the inputs are freed) and creates the native inputs. */
  private static long open(Model model, String method) {
    Objects.requireNonNull(model, "model");
    byte[] cmethod = NativeApi.cstr(Objects.requireNonNull(method, "method"), "method name");
    long m = model.acquire();
    boolean ok = false;
    try {
      Scratch sc = Scratch.get();
      NativeApi.check(NativeApi.ti_inputs_create(m, cmethod, sc.out));
      long p = sc.result();
      ok = p != 0;
      if (!ok) {
        throw new TorchInferException(TorchInferException.Code.INTERNAL,
            "the library returned success with a NULL inputs handle");
      }
      return p;
    } finally {
      if (!ok) {
        model.release();
      }
    }
  }

  /**
   * Escapes a str dict key as one path segment: {@code \} becomes {@code \\}, then {@code .}
   * becomes {@code \.} ("p.q" is the segment {@code p\.q}). For building paths and leaf names by
   * hand; {@link #set(String, Object)} and {@link Model#run(String, Map)} escape map keys
   * themselves.
   */
  public static String escapeKey(String key) {
    return key.replace("\\", "\\\\").replace(".", "\\.");
  }

  /** The method these arguments are for. */
  public String method() {
    ensureOpen();
    return method;
  }

  /**
   * Walks {@code value} into {@code path} and below, by its Java type:
   * <ul>
   *   <li>{@link Tensor}: {@link #setTensor}; {@link String}: {@link #setString};
   *       {@link Long}, {@link Integer}, {@link Short}, {@link Byte}: {@link #setLong};
   *       {@link Double}, {@link Float}: {@link #setDouble}; {@link Boolean}: {@link #setBool};
   *       {@code null} or an empty {@link Optional}: {@link #setNone}; a present Optional: its value;
   *   <li>a {@link List} or an object array (a TorchScript list or tuple): element {@code i} at
   *       {@code path.i}; an empty one: {@link #setEmpty};
   *   <li>a {@link Map} (a TorchScript dict): each value at {@code path.key}, the key a
   *       {@link String} ({@link #escapeKey escaped}), a {@link Long} / {@link Integer} /
   *       {@link Short} / {@link Byte} (decimal) or a {@link Boolean} ("True" / "False"); an
   *       empty one: {@link #setEmpty}.
   * </ul>
   * Whether a list becomes a list or a tuple, and the element and key types, come from the
   * method's schema. If a value fails, those set before it stay set. A list set again with fewer
   * elements keeps the extra elements set before: use new Inputs, or {@link #setEmpty} first.
   *
   * @return this
   * @throws IllegalArgumentException for a value or key of another Java type, or nesting deeper
   *     than 64
   * @throws TorchInferException INVALID_ARGUMENT when the schema refuses a path or value (the
   *     message names the path and the declared type)
   */
  public Inputs set(String path, Object value) {
    Objects.requireNonNull(path, "path");
    ensureOpen();
    walk(path, value, 0);
    return this;
  }

  private void walk(String path, Object value, int depth) {
    if (depth > MAX_DEPTH) {
      throw new IllegalArgumentException("value at \"" + path + "\" is nested deeper than "
          + MAX_DEPTH + " levels (a container that contains itself?)");
    }
    if (value == null) {
      setNone(path);
    } else if (value instanceof Tensor t) {
      setTensor(path, t);
    } else if (value instanceof String s) {
      setString(path, s);
    } else if (value instanceof Long || value instanceof Integer || value instanceof Short
        || value instanceof Byte) {
      setLong(path, ((Number) value).longValue());
    } else if (value instanceof Double || value instanceof Float) {
      setDouble(path, ((Number) value).doubleValue());
    } else if (value instanceof Boolean b) {
      setBool(path, b);
    } else if (value instanceof Optional<?> o) {
      walk(path, o.orElse(null), depth);
    } else if (value instanceof List<?> list) {
      if (list.isEmpty()) {
        setEmpty(path);
      }
      int i = 0;
      for (Object element : list) {
        walk(path + "." + i++, element, depth + 1);
      }
    } else if (value instanceof Object[] array) {
      if (array.length == 0) {
        setEmpty(path);
      }
      for (int i = 0; i < array.length; i++) {
        walk(path + "." + i, array[i], depth + 1);
      }
    } else if (value instanceof Map<?, ?> map) {
      if (map.isEmpty()) {
        setEmpty(path);
      }
      for (Map.Entry<?, ?> e : map.entrySet()) {
        walk(path + "." + keySegment(path, e.getKey()), e.getValue(), depth + 1);
      }
    } else {
      throw new IllegalArgumentException("value at \"" + path + "\" is a " + value.getClass().getName()
          + ": expected a Tensor, String, Long, Integer, Double, Float, Boolean, null, Optional,"
          + " List, array or Map");
    }
  }

  /** A map key as one path segment. */
  private static String keySegment(String path, Object key) {
    if (key instanceof String s) {
      return escapeKey(s);
    }
    if (key instanceof Long || key instanceof Integer || key instanceof Short || key instanceof Byte) {
      return Long.toString(((Number) key).longValue());
    }
    if (key instanceof Boolean b) {
      return b ? "True" : "False";
    }
    throw new IllegalArgumentException("a key of the map at \"" + path + "\" is "
        + (key == null ? "null" : "a " + key.getClass().getName())
        + ": expected a String, Long, Integer or Boolean");
  }

  /**
   * Sets the tensor at {@code path}. The Inputs keep their own reference: {@code tensor} may be
   * closed at once.
   *
   * @return this
   * @throws TorchInferException INVALID_ARGUMENT (see the checks above)
   * @throws IllegalStateException if this or {@code tensor} is closed
   */
  public Inputs setTensor(String path, Tensor tensor) {
    byte[] p = cpath(path);
    Objects.requireNonNull(tensor, () -> "tensor at \"" + path + "\" is null (use setNone for None)");
    long in = acquire();
    try {
      long t = tensor.acquire();
      try {
        NativeApi.check(NativeApi.ti_inputs_set_tensor(in, p, t));
      } finally {
        tensor.release();
      }
    } finally {
      release();
    }
    return this;
  }

  /**
   * Sets an int where the declared type is int, float (converted; exact up to 2^53) or Scalar.
   *
   * @return this
   * @throws TorchInferException INVALID_ARGUMENT (see the checks above)
   */
  public Inputs setLong(String path, long value) {
    byte[] p = cpath(path);
    long in = acquire();
    try {
      NativeApi.check(NativeApi.ti_inputs_set_int(in, p, value));
    } finally {
      release();
    }
    return this;
  }

  /**
   * Sets a float where the declared type is float or Scalar.
   *
   * @return this
   * @throws TorchInferException INVALID_ARGUMENT (see the checks above)
   */
  public Inputs setDouble(String path, double value) {
    byte[] p = cpath(path);
    long in = acquire();
    try {
      NativeApi.check(NativeApi.ti_inputs_set_float(in, p, value));
    } finally {
      release();
    }
    return this;
  }

  /**
   * Sets a bool where the declared type is bool.
   *
   * @return this
   * @throws TorchInferException INVALID_ARGUMENT (see the checks above)
   */
  public Inputs setBool(String path, boolean value) {
    byte[] p = cpath(path);
    long in = acquire();
    try {
      NativeApi.check(NativeApi.ti_inputs_set_bool(in, p, value ? 1 : 0));
    } finally {
      release();
    }
    return this;
  }

  /**
   * Sets a str, passed as UTF-8 (NUL characters inside are kept).
   *
   * @return this
   * @throws TorchInferException INVALID_ARGUMENT (see the checks above; also for a string with an
   *     unpaired surrogate, which has no UTF-8 form)
   */
  public Inputs setString(String path, String value) {
    Objects.requireNonNull(value, () -> "string at \"" + path + "\" is null (use setNone for None)");
    byte[] utf8;
    try {
      ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .encode(CharBuffer.wrap(value));
      utf8 = new byte[b.remaining()];
      b.get(utf8);
    } catch (CharacterCodingException e) {
      throw new TorchInferException(TorchInferException.Code.INVALID_ARGUMENT,
          "input '" + path + "': the string has no UTF-8 form (an unpaired surrogate)");
    }
    return setString(path, utf8);
  }

  /**
   * Sets a str from its UTF-8 bytes (copied; NUL bytes inside are kept).
   *
   * @return this
   * @throws TorchInferException INVALID_ARGUMENT (see the checks above, and for bytes that are
   *     not valid UTF-8)
   */
  public Inputs setString(String path, byte[] utf8) {
    byte[] p = cpath(path);
    Objects.requireNonNull(utf8, "utf8");
    long in = acquire();
    try {
      NativeApi.check(NativeApi.ti_inputs_set_string(in, p, utf8, utf8.length));
    } finally {
      release();
    }
    return this;
  }

  /**
   * Sets None where the declared type is Optional.
   *
   * @return this
   * @throws TorchInferException INVALID_ARGUMENT (see the checks above)
   */
  public Inputs setNone(String path) {
    byte[] p = cpath(path);
    long in = acquire();
    try {
      NativeApi.check(NativeApi.ti_inputs_set_none(in, p));
    } finally {
      release();
    }
    return this;
  }

  /**
   * Sets an empty list or dict where the declared type is one (its element types are the
   * declared ones).
   *
   * @return this
   * @throws TorchInferException INVALID_ARGUMENT (see the checks above)
   */
  public Inputs setEmpty(String path) {
    byte[] p = cpath(path);
    long in = acquire();
    try {
      NativeApi.check(NativeApi.ti_inputs_set_empty(in, p));
    } finally {
      release();
    }
    return this;
  }

  private static byte[] cpath(String path) {
    return NativeApi.cstr(Objects.requireNonNull(path, "path"), "path");
  }

  /** The model these arguments were made for (package-private: Model.run checks it). */
  Model model() {
    return model;
  }

  @Override
  public String toString() {
    return isClosed() ? "Inputs(closed)" : "Inputs(method=" + method + ")";
  }
}
