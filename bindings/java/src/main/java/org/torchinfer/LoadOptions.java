package org.torchinfer;

import java.util.Objects;

/**
 * Settings for {@link Model#load(java.nio.file.Path, LoadOptions)}: a plain Java value, nothing
 * to close (it has no {@code close()}, so there is no "after close": every method works for the
 * object's whole life). The native {@code ti_load_options_t} is made and freed inside each load.
 *
 * <pre>{@code
 * Model m = Model.load(path, new LoadOptions().device("cuda:0"));
 * }</pre>
 *
 * <p>Not synchronized: do not change options from one thread while another loads with them.
 */
public final class LoadOptions {
  private volatile String device = "cpu";
  private volatile boolean allowNativeCode = true;

  /** Default options: device "cpu", native code allowed. */
  public LoadOptions() {}

  /**
   * Sets the device the model is loaded onto: "cpu", "cuda" (the current CUDA device) or
   * "cuda:N". The string is checked now; whether the device is present is checked by the load,
   * which fails with {@link TorchInferException.Code#DEVICE} (never a CPU fallback).
   *
   * @throws TorchInferException INVALID_ARGUMENT for a malformed string (or one with a NUL
   *     character), UNSUPPORTED for a device type other than cpu and cuda
   * @return this
   */
  public LoadOptions device(String device) {
    Objects.requireNonNull(device, "device");
    long o = newNative(device); // validates
    NativeApi.ti_load_options_free(o);
    this.device = device;
    return this;
  }

  /** The device string ("cpu" by default). */
  public String device() {
    return device;
  }

  /**
   * Whether loading may run native code. true (the default): an AOTInductor .pt2 package, whose
   * compiled shared library runs in this process, loads. false: only interpreted formats
   * (TorchScript) load; a .pt2 (or anything else that would load native code) fails with
   * {@link TorchInferException.Code#UNSUPPORTED} before anything from it is written to disk or
   * mapped. For services that load models their users upload.
   *
   * @return this
   */
  public LoadOptions allowNativeCode(boolean allow) {
    this.allowNativeCode = allow;
    return this;
  }

  /** Whether loading may run native code (true by default); see {@link #allowNativeCode(boolean)}. */
  public boolean allowNativeCode() {
    return allowNativeCode;
  }

  /** A native options handle for these settings; the caller frees it. */
  long newNative() {
    long o = newNative(device);
    long err = NativeApi.ti_load_options_set_allow_native_code(o, allowNativeCode ? 1 : 0);
    if (err != 0) {
      NativeApi.ti_load_options_free(o);
      throw NativeApi.take(err);
    }
    return o;
  }

  private static long newNative(String device) {
    byte[] cdevice = NativeApi.cstr(device, "device"); // may throw: before anything is allocated
    long o = NativeApi.ti_load_options_create();
    if (o == 0) {
      throw new TorchInferException(TorchInferException.Code.OUT_OF_MEMORY, "ti_load_options_create failed");
    }
    long err = NativeApi.ti_load_options_set_device(o, cdevice);
    if (err != 0) {
      NativeApi.ti_load_options_free(o);
      throw NativeApi.take(err);
    }
    return o;
  }

  @Override
  public String toString() {
    return "LoadOptions(device=" + device + ", allowNativeCode=" + allowNativeCode + ")";
  }
}
