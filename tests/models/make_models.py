#!/usr/bin/python3
"""Export the shared TorchScript fixtures and their reference outputs.

Usage: /usr/bin/python3 tests/models/make_models.py OUT_DIR [--resnet]

Run with the system interpreter (Debian's python3-torch) so that the archive
format matches the LibTorch the library links. Every language's tests read the
same files:

  OUT_DIR/<name>.pt      the fixtures (the classes below), among them:
                         slow.pt: forward(x: Tensor, n: int) runs n rounds of tanh(x @ x)
                                  (a call as long as a test needs: timeouts, cancellation)
                         inplace.pt: forward(x) adds 1 to x in place and returns x * 2
                         stateful.pt: forward(x) -> (its call-count buffer, weight[1:])
  OUT_DIR/newer.pt       mlp.pt relabelled as written by a future PyTorch
  OUT_DIR/fake.pt2       a ZIP laid out like an AOTInductor package, with no model in it
  OUT_DIR/hostile_*.pt   mlp.pt with a malformed data.pkl or records (see write_hostile);
                         hostile_chain.pt / deep_chain.pt: identity.pt with a 30,000 / 500
                         term `x + x + ...` forward
  OUT_DIR/reference.json cases: model, method, inputs, expected leaf outputs

With torch 2.6 or newer (the LibTorch 2.x leg) it also exports AOTInductor packages
(torch.export + AOTInductor, compiled for the CPU with the system C++ compiler):

  OUT_DIR/dynamic.pt2    TwoInputs: x [B, 8], y [B, 4] with a dynamic batch B in [2, 64]
                         (exported with keyword arguments, so its inputs are named x and y)
                         -> {"sum", "relu"}
  OUT_DIR/conv.pt2       ConvNet: one static [1, 3, 8, 8] input (positional: named "0")
                         -> (feature map, per-channel mean)
  OUT_DIR/multi.pt2      both models in one package: "model" (run as forward) and "conv"

reference.json layout:
  {"torch_version": "...",
   "cases": [{"name": "...", "model": "mlp.pt", "method": "forward",
              "named": false,
              "inputs":  [{"name": "x", "dtype": "float32", "shape": [1, 16],
                           "data": [...]}],
              "outputs": [{"name": "0", "dtype": "float32", "shape": [1, 4],
                           "data": [...]}]}]}
"data" is the row-major flattening; bools are written as 0/1. Compare floats
with a relative tolerance of 1e-5 (absolute 1e-6).
"""
import json
import os
import sys
import zipfile
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

DTYPE_NAMES = {
    torch.float32: "float32", torch.float64: "float64", torch.float16: "float16",
    torch.bfloat16: "bfloat16", torch.int8: "int8", torch.uint8: "uint8",
    torch.int16: "int16", torch.int32: "int32", torch.int64: "int64", torch.bool: "bool",
}


class MLP(nn.Module):
    """The tiny MLP of the benchmarks: 1x16 -> 4."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


class Identity(nn.Module):
    """Returns a copy of its input, whatever the dtype; a second method doubles it."""

    def forward(self, x: Tensor) -> Tensor:
        return x.clone()

    @torch.jit.export
    def double(self, x: Tensor) -> Tensor:
        return x * 2


class Structured(nn.Module):
    """Nested, dict, scalar and unrepresentable results."""

    def forward(self, x: Tensor) -> Tuple[Tensor, Tuple[Tensor, Tensor]]:
        return x + 1, (x * 2, x.sum())

    @torch.jit.export
    def dict_out(self, x: Tensor) -> Dict[str, List[Tensor]]:
        return {"boxes": [x, x + 1, x + 2], "scores": [x.sum()]}

    @torch.jit.export
    def scalars(self, x: Tensor) -> Tuple[int, float, bool]:
        return x.numel(), float(x.sum().item()), bool(x.sum().item() > 0)

    @torch.jit.export
    def text(self, x: Tensor) -> str:
        return "not a tensor"


class Named(nn.Module):
    """Named inputs, two of them optional: (ids * mask) * scale + bias."""

    def forward(self, ids: Tensor, mask: Tensor, bias: Optional[Tensor] = None,
                scale: float = 1.0) -> Tensor:
        out = (ids * mask) * scale
        if bias is not None:
            out = out + bias
        return out


class Faulty(nn.Module):
    """Raises on negative input; `allocate` asks for as many floats as its input says."""

    def forward(self, x: Tensor) -> Tensor:
        if bool(x.sum() < 0):
            raise ValueError("faulty: input sum must be non-negative")
        return x * 2

    @torch.jit.export
    def allocate(self, n: Tensor) -> Tensor:
        return torch.ones(int(n.item()))


class Slow(nn.Module):
    """Runs `n` rounds of a small matmul: a call as long as the caller wants (timeouts, cancel)."""

    def forward(self, x: Tensor, n: int) -> Tensor:
        for _ in range(n):
            x = torch.tanh(x @ x)
        return x


class InPlace(nn.Module):
    """Writes to its argument in place, then returns it."""

    def forward(self, x: Tensor) -> Tensor:
        x.add_(1)
        return x * 2


class Stateful(nn.Module):
    """Counts its calls in a buffer and returns the buffer itself, plus a view of the weight."""

    def __init__(self):
        super().__init__()
        self.register_buffer("count", torch.zeros(1))
        self.weight = nn.Parameter(torch.arange(4.0))

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        self.count.add_(1)
        return self.count, self.weight[1:]


class Demo(nn.Module):
    """The demo classifier: 4 features -> logits and probabilities over 3 classes."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, features: Tensor) -> Dict[str, Tensor]:
        logits = self.fc(features)
        return {"logits": logits, "probs": torch.softmax(logits, dim=-1)}


class TwoInputs(nn.Module):
    """A .pt2 fixture with a dynamic batch shared by two inputs and a dict output."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x: Tensor, y: Tensor) -> Dict[str, Tensor]:
        h = self.fc(x) + y
        return {"sum": h, "relu": torch.relu(h)}


class ListDict(nn.Module):
    """A .pt2 fixture whose inputs are a list and a dict (structured inputs by path: xs.0, d.p)."""

    def forward(self, xs: List[Tensor], d: Dict[str, Tensor]) -> Tensor:
        return xs[0] * 2 + xs[1] + d["p"]


class ConvNet(nn.Module):
    """A static-shape .pt2 fixture with a tuple output."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)

    def forward(self, image: Tensor) -> Tuple[Tensor, Tensor]:
        features = torch.relu(self.conv(image))
        return features, features.mean(dim=(2, 3))


def export_aoti(out_dir, cases_for):
    """Exports the .pt2 fixtures and adds their reference cases (torch >= 2.6 only)."""
    from torch._inductor import aot_compile
    from torch._inductor.package import package_aoti

    g = torch.Generator().manual_seed(2)
    two, conv = TwoInputs().eval(), ConvNet().eval()
    batch = torch.export.Dim("batch", min=1, max=64)
    x, y = torch.randn(3, 8, generator=g), torch.randn(3, 4, generator=g)
    ep_two = torch.export.export(two, (), {"x": x, "y": y},
                                 dynamic_shapes={"x": {0: batch}, "y": {0: batch}})
    image = torch.randn(1, 3, 8, 8, generator=g)
    ep_conv = torch.export.export(conv, (image,))
    options = {"aot_inductor.package": True}
    files_two = aot_compile(ep_two.module(), (), {"x": x, "y": y}, options=options)
    files_conv = aot_compile(ep_conv.module(), (image,), options=options)
    package_aoti(os.path.join(out_dir, "dynamic.pt2"), {"model": files_two})
    package_aoti(os.path.join(out_dir, "conv.pt2"), {"model": files_conv})
    package_aoti(os.path.join(out_dir, "multi.pt2"), {"model": files_two, "conv": files_conv})
    # Keyword arguments {"xs": [a, b], "d": {"p": c}}: inputs xs.0, xs.1, d.p.
    kw = {"xs": [torch.zeros(2), torch.zeros(2)], "d": {"p": torch.zeros(2)}}
    ep_ld = torch.export.export(ListDict().eval(), (), kw)
    package_aoti(os.path.join(out_dir, "list_dict.pt2"),
                 {"model": aot_compile(ep_ld.module(), (), kw, options=options)})
    # dynamic.pt2 relabelled as compiled for a CPU this one is not (issue 19: refused at load,
    # never SIGILL): an x86 ISA no CPU has, and another machine.
    for name, key, value in (("foreign_isa.pt2", "AOTI_CPU_ISA", "AVX512 AVX512_VNNI AMX_TILE AVX1024"),
                             ("foreign_machine.pt2", "AOTI_MACHINE", "aarch64")):
        relabel_package(os.path.join(out_dir, "dynamic.pt2"), os.path.join(out_dir, name), key, value)

    x5, y5 = torch.randn(5, 8, generator=g), torch.randn(5, 4, generator=g)
    with torch.no_grad():
        cases_for(two, "pt2_dynamic", "dynamic.pt2", "forward", [("x", x5), ("y", y5)])
        cases_for(two, "pt2_dynamic_named", "dynamic.pt2", "forward", [("y", y), ("x", x)], True)
        cases_for(conv, "pt2_conv", "conv.pt2", "forward", [("0", image)])
        cases_for(conv, "pt2_multi_conv", "multi.pt2", "conv", [("0", image)])
        cases_for(two, "pt2_multi_forward", "multi.pt2", "forward", [("x", x), ("y", y)])


def relabel_package(src, dst, key, value):
    """A copy of the package `src` whose metadata says `key` = `value`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith("_metadata.json"):
                meta = json.loads(data)
                meta[key] = value
                data = json.dumps(meta).encode()
            zout.writestr(item.filename, data)


def write_fake_pt2(path):
    """A ZIP that looks like an AOTInductor package but holds no loadable model."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("fake/archive_format", "pt2")
        z.writestr("fake/data/aotinductor/model/abc.wrapper.cpp", "// no model here\n")


def write_hostile(out_dir):
    """Archives built to break LibTorch's loader (issue 9), derived from mlp.pt: each must be
    refused with TI_ERR_MODEL_FORMAT before LibTorch reads it. Also the fuzzer's seeds."""
    src = os.path.join(out_dir, "mlp.pt")

    def rewrite(name, replace):
        with zipfile.ZipFile(src) as zin, \
                zipfile.ZipFile(os.path.join(out_dir, name), "w", zipfile.ZIP_STORED) as zout:
            for item in zin.infolist():
                data = replace(item.filename, zin.read(item.filename))
                if data is not None:
                    zout.writestr(item.filename, data)

    def pkl(body):
        return lambda f, d: body if f.endswith("/data.pkl") else d

    def string(s):
        b = s.encode()
        return b"X" + len(b).to_bytes(4, "little") + b

    # A tensor of 100 floats over a 4-float storage (data/0 shrunk to 16 bytes).
    tensor = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n("
              + b"(" + string("storage") + b"ctorch\nFloatStorage\n" + string("0") + string("cpu")
              + b"K\x04tQ" + b"K\x00" + b"Kd\x85" + b"K\x01\x85" + b"\x89" + b"}tR.")
    shrink = lambda f, d: d[:16] if f.endswith("/data/0") else d
    cases = {
        "hostile_underflow.pt": pkl(b"\x80\x02R."),                          # REDUCE on nothing
        "hostile_deep.pt": pkl(b"\x80\x02N" + b"\x85" * 1_000_000 + b"."),  # 10^6 nested tuples
        "hostile_memo.pt": pkl(b"\x80\x02h\x05."),                          # a never-written memo slot
        "hostile_storage.pt": shrink,                                        # records shorter than storages
        "hostile_extent.pt": lambda f, d: tensor if f.endswith("/data.pkl") else shrink(f, d),
        "hostile_truncated_pkl.pt": pkl(b"\x80\x02X\xff\xff\x00\x00ab."),  # a string past the end
    }
    for name, replace in cases.items():
        rewrite(name, replace)

    # identity.pt whose forward is one long chain `x + x + ... + x`: LibTorch's parser, compiler
    # and first-call passes recurse once per term (20,000 terms overflowed an 8 MiB stack at load,
    # 1,000 a 1 MiB stack on the first call). 500 terms load (on the library's large-stack
    # thread) and return 500 * x; 30,000 are refused.
    def chain(n):
        def replace(f, d):
            if f.endswith("/code/__torch__.py"):
                return d.decode().replace("return torch.clone(x)", "return " + " + ".join(["x"] * n)).encode()
            return d
        return replace
    src = os.path.join(out_dir, "identity.pt")
    for name, n in (("deep_chain.pt", 500), ("hostile_chain.pt", 30000)):
        with zipfile.ZipFile(src) as zin, \
                zipfile.ZipFile(os.path.join(out_dir, name), "w", zipfile.ZIP_STORED) as zout:
            for item in zin.infolist():
                zout.writestr(item.filename, chain(n)(item.filename, zin.read(item.filename)))
    import hostile_source  # issue 19: deep expressions and misread class declarations
    hostile_source.write(out_dir)


def leaf_list(value, prefix=""):
    """Flatten a result the way the C API does: depth first, index/key names joined by '.'."""
    def join(name):
        return name if not prefix else prefix + "." + name
    if isinstance(value, Tensor):
        return [(prefix or "0", value)]
    if isinstance(value, bool):
        return [(prefix or "0", torch.tensor(value, dtype=torch.bool))]
    if isinstance(value, int):
        return [(prefix or "0", torch.tensor(value, dtype=torch.int64))]
    if isinstance(value, float):
        return [(prefix or "0", torch.tensor(value, dtype=torch.float64))]
    if isinstance(value, (tuple, list)):
        out = []
        for i, v in enumerate(value):
            out += leaf_list(v, join(str(i)))
        return out
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out += leaf_list(v, join(str(k)))
        return out
    raise TypeError(type(value))


def describe(name, t):
    t = t.detach().contiguous()
    flat = t.reshape(-1)
    if t.dtype == torch.bool:
        data = [int(v) for v in flat.tolist()]
    elif t.dtype in (torch.float16, torch.bfloat16):
        data = flat.float().tolist()
    else:
        data = flat.tolist()
    return {"name": name, "dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data": data}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)

    modules = {
        "mlp.pt": MLP(), "identity.pt": Identity(), "structured.pt": Structured(),
        "named.pt": Named(), "faulty.pt": Faulty(), "demo.pt": Demo(), "slow.pt": Slow(),
        "inplace.pt": InPlace(), "stateful.pt": Stateful(),
    }
    scripted = {}
    for file, module in modules.items():
        module.eval()
        s = torch.jit.script(module)
        s.save(os.path.join(out_dir, file))
        scripted[file] = s

    cases = []

    def case(name, file, method, inputs, named=False):
        fn = getattr(scripted[file], method)
        with torch.no_grad():
            if named:
                result = fn(**dict(inputs))
            else:
                result = fn(*[t for _, t in inputs])
        cases.append({
            "name": name, "model": file, "method": method, "named": named,
            "inputs": [describe(n, t) for n, t in inputs],
            "outputs": [describe(n, t) for n, t in leaf_list(result)],
        })

    g = torch.Generator().manual_seed(1)
    x16 = torch.randn(1, 16, generator=g)
    x3 = torch.tensor([[1.0, -2.0, 3.5], [0.25, 4.0, -1.0]])
    case("mlp", "mlp.pt", "forward", [("x", x16)])
    case("mlp_batch", "mlp.pt", "forward", [("x", torch.randn(5, 16, generator=g))])
    case("identity", "identity.pt", "forward", [("x", x3)])
    case("identity_double", "identity.pt", "double", [("x", x3)])
    case("tuple", "structured.pt", "forward", [("x", x3)])
    case("dict", "structured.pt", "dict_out", [("x", x3)])
    case("scalars", "structured.pt", "scalars", [("x", x3)])
    ids = torch.tensor([[1, 2, 3]], dtype=torch.float32)
    mask = torch.tensor([[1, 0, 1]], dtype=torch.float32)
    bias = torch.tensor([[0.5, 0.5, 0.5]])
    case("named_positional", "named.pt", "forward", [("ids", ids), ("mask", mask)])
    case("named_reordered", "named.pt", "forward",
         [("bias", bias), ("mask", mask), ("ids", ids)], named=True)
    case("named_scale", "named.pt", "forward",
         [("scale", torch.tensor(3.0, dtype=torch.float64)), ("mask", mask), ("ids", ids)],
         named=True)
    case("faulty_ok", "faulty.pt", "forward", [("x", x3.abs())])
    case("demo", "demo.pt", "forward", [("features", torch.tensor([[0.5, -1.0, 2.0, 0.1]]))])

    def eager_case(fn, name, file, method, inputs, named=False):
        result = fn(**dict(inputs)) if named else fn(*[t for _, t in inputs])
        cases.append({
            "name": name, "model": file, "method": method, "named": named,
            "inputs": [describe(n, t) for n, t in inputs],
            "outputs": [describe(n, t) for n, t in leaf_list(result)],
        })

    write_fake_pt2(os.path.join(out_dir, "fake.pt2"))
    if hasattr(torch, "export") and hasattr(torch._inductor, "aoti_compile_and_package"):
        export_aoti(out_dir, eager_case)

    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump({"torch_version": torch.__version__, "cases": cases}, f, indent=1)

    # A valid archive whose version record claims a format newer than any LibTorch reads.
    src = os.path.join(out_dir, "mlp.pt")
    dst = os.path.join(out_dir, "newer.pt")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith("/version"):
                data = b"999\n"
            zout.writestr(item, data)

    write_hostile(out_dir)

    import values_models  # structured values (issue 16) and batching (issue 17) fixtures
    values_models.write(out_dir, describe)

    if "--resnet" in sys.argv[2:]:
        import torchvision
        net = torchvision.models.resnet18(weights=None).eval()
        torch.jit.script(net).save(os.path.join(out_dir, "resnet18.pt"))
        if hasattr(torch, "export") and hasattr(torch._inductor, "aoti_compile_and_package"):
            # The benchmark's AOTInductor twins of mlp.pt and resnet18.pt: the same modules and
            # weights, a static batch of 1, compiled for the CPU (ResNet-18 takes minutes).
            # Compiled for one thread, as the benchmark runs: the generated kernels hard-code
            # their OpenMP thread count, which ti_set_num_threads cannot change afterwards.
            g = torch.Generator().manual_seed(3)
            for module, example, file in (
                    (modules["mlp.pt"], torch.randn(1, 16, generator=g), "mlp_bench.pt2"),
                    (net, torch.randn(1, 3, 224, 224, generator=g), "resnet18.pt2")):
                ep = torch.export.export(module.eval(), (example,))
                torch._inductor.aoti_compile_and_package(
                    ep, package_path=os.path.join(out_dir, file),
                    inductor_configs={"cpp.threads": 1})

    print("wrote fixtures to", out_dir)


if __name__ == "__main__":
    main()
