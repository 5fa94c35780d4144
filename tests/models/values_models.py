"""Fixtures for structured values (issue 16) and dynamic batching (issue 17).

Called by make_models.py; writes into OUT_DIR:

  values.pt        forward(pairs: List[Tuple[Tensor, Tensor]], by_id: Dict[int, Tensor], text: str,
                           words: List[str], maybe: Optional[Tensor] = None, k: int = 2,
                           scale: float = 1.0)
                   -> (Tensor, Dict[str, Tensor] with a "p.q" key, str, List[str], Optional[Tensor])
                   echo(s: str) -> str; float_keys(x) -> Dict[float, Tensor] (unsupported)
  dict_input.pt    forward(batch: Dict[str, Tensor]) -> Tensor (HuggingFace-style batch)
  detection.pt     torchvision's fasterrcnn_mobilenet_v3_large_320_fpn, random weights, 3 classes,
                   scripted (needs torchvision's operator library: torchvision_ops.txt)
  batch_rows.pt    forward(x) -> {"y": x * 2 + 1, "rows": full([B], B)}; bad(x) raises on -999;
                   scalar(x) -> x.sum() (cannot be split by rows)
  ranking_mlp.pt   256 -> 1024 -> 1024 -> 16 float32 MLP (the batching benchmark)
  torchvision_ops.txt   the path of torchvision's operator library (one line)
  values_reference.json cases: model, method, "ops", inputs by path, expected leaves by kind

Every reference comes from PyTorch running the saved TorchScript (torch.jit.load), not the
eager module.
"""
import glob
import json
import os
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn


class Values(nn.Module):
    """Every value kind in and out: lists of tuples, int-keyed dicts, str, List[str], Optional."""

    def forward(self, pairs: List[Tuple[Tensor, Tensor]], by_id: Dict[int, Tensor], text: str,
                words: List[str], maybe: Optional[Tensor] = None, k: int = 2,
                scale: float = 1.0) -> Tuple[Tensor, Dict[str, Tensor], str, List[str], Optional[Tensor]]:
        total = torch.zeros([])
        for a, b in pairs:
            total = total + (a * b).sum()
        total = total * scale + k
        acc = torch.zeros([])
        for key, value in by_id.items():
            acc = acc + value.sum() + key
        reversed_words: List[str] = []
        for i in range(len(words)):
            reversed_words.append(words[len(words) - 1 - i])
        doubled: Optional[Tensor] = None
        if maybe is not None:
            doubled = maybe * 2
        shout = text.upper()
        for _ in range(k):
            shout = shout + "!"
        return total, {"p.q": acc, "n": torch.tensor(len(by_id))}, shout, reversed_words, doubled

    @torch.jit.export
    def echo(self, s: str) -> str:
        return s

    @torch.jit.export
    def float_keys(self, x: Tensor) -> Dict[float, Tensor]:
        """A result the C API cannot name (float dict keys): TI_ERR_UNSUPPORTED."""
        return {0.5: x}


class DictInput(nn.Module):
    def forward(self, batch: Dict[str, Tensor]) -> Tensor:
        return (batch["input_ids"].float() * batch["attention_mask"].float()).sum(-1)


class BatchRows(nn.Module):
    """Tells each request how many rows the call it ran in had."""

    def forward(self, x: Tensor) -> Dict[str, Tensor]:
        return {"y": x * 2 + 1, "rows": torch.full([x.size(0)], x.size(0), dtype=torch.long)}

    @torch.jit.export
    def bad(self, x: Tensor) -> Tensor:
        if bool((x == -999).any()):
            raise ValueError("bad: sentinel -999 in the input")
        return x * 2

    @torch.jit.export
    def scalar(self, x: Tensor) -> Tensor:
        return x.sum()


class RankingMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(256, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                                 nn.Linear(1024, 16))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def torchvision_ops_library():
    """The path of torchvision's compiled operator library (_C*.so), or None."""
    try:
        import torchvision
    except ImportError:
        return None
    found = sorted(glob.glob(os.path.join(os.path.dirname(torchvision.__file__), "_C*.so")))
    return found[0] if found else None


def tensor_entry(key, name, t, describe):
    d = describe(name, t)
    d[key] = d.pop("name")
    d["kind"] = "tensor"
    return d


def leaves(value, describe, prefix=""):
    """Flatten a TorchScript result the way the C API does, with kinds and escaped names."""
    def join(seg):
        return seg if not prefix else prefix + "." + seg

    def esc(key):
        return key.replace("\\", "\\\\").replace(".", "\\.")

    name = prefix or "0"
    if isinstance(value, torch.Tensor):
        return [tensor_entry("name", name, value, describe)]
    if isinstance(value, bool):
        return [tensor_entry("name", name, torch.tensor(value), describe)]
    if isinstance(value, int):
        return [tensor_entry("name", name, torch.tensor(value, dtype=torch.int64), describe)]
    if isinstance(value, float):
        return [tensor_entry("name", name, torch.tensor(value, dtype=torch.float64), describe)]
    if isinstance(value, str):
        return [{"name": name, "kind": "string", "value": value}]
    if value is None:
        return [{"name": name, "kind": "none"}]
    out = []
    if isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            out += leaves(v, describe, join(str(i)))
        return out
    if isinstance(value, dict):
        for k, v in value.items():
            seg = ("True" if k else "False") if isinstance(k, bool) else esc(str(k))
            out += leaves(v, describe, join(seg))
        return out
    raise TypeError(type(value))


def write(out_dir, describe):
    torch.manual_seed(16)
    g = torch.Generator().manual_seed(16)
    scripted = {}
    for file, module in (("values.pt", Values()), ("dict_input.pt", DictInput()),
                         ("batch_rows.pt", BatchRows()), ("ranking_mlp.pt", RankingMLP())):
        path = os.path.join(out_dir, file)
        torch.jit.script(module.eval()).save(path)
        scripted[file] = torch.jit.load(path)

    ops = torchvision_ops_library()
    if ops:
        import torchvision
        net = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(
            weights=None, weights_backbone=None, num_classes=3).eval()
        path = os.path.join(out_dir, "detection.pt")
        torch.jit.script(net).save(path)
        scripted["detection.pt"] = torch.jit.load(path)
        with open(os.path.join(out_dir, "torchvision_ops.txt"), "w") as f:
            f.write(ops + "\n")

    cases = []

    def case(name, file, method, inputs, call):
        """inputs: [(path, kind, value)]; call(fn) runs the saved module."""
        with torch.no_grad():
            result = call(getattr(scripted[file], method))
        entries = []
        for path, kind, value in inputs:
            if kind == "tensor":
                entries.append(tensor_entry("path", path, value, describe))
            elif kind in ("none", "empty"):
                entries.append({"path": path, "kind": kind})
            else:
                entries.append({"path": path, "kind": kind, "value": value})
        cases.append({"name": name, "model": file, "method": method, "ops": file == "detection.pt",
                      "inputs": entries, "outputs": leaves(result, describe)})

    a0, b0 = torch.randn(2, 3, generator=g), torch.randn(2, 3, generator=g)
    a1, b1 = torch.randn(4, generator=g), torch.randn(4, generator=g)
    v5, v7, m = torch.randn(3, generator=g), torch.randn(2, 2, generator=g), torch.randn(2, generator=g)
    case("values_all", "values.pt", "forward",
         [("pairs.0.0", "tensor", a0), ("pairs.0.1", "tensor", b0), ("pairs.1.0", "tensor", a1),
          ("pairs.1.1", "tensor", b1), ("by_id.5", "tensor", v5), ("by_id.-7", "tensor", v7),
          ("text", "string", "héllo wörld"), ("words.0", "string", "a.b"), ("words.1", "string", "c"),
          ("maybe", "tensor", m), ("k", "int", 3), ("scale", "float", 0.5)],
         lambda fn: fn([(a0, b0), (a1, b1)], {5: v5, -7: v7}, "héllo wörld", ["a.b", "c"], m, 3, 0.5))
    case("values_defaults", "values.pt", "forward",
         [("pairs", "empty", None), ("by_id", "empty", None), ("text", "string", ""),
          ("words", "empty", None)],
         lambda fn: fn([], {}, "", []))
    case("values_none", "values.pt", "forward",
         [("0.0.0", "tensor", a1), ("0.0.1", "tensor", b1), ("1.0", "tensor", v5),
          ("2", "string", "x"), ("3.0", "string", "only"), ("maybe", "none", None)],
         lambda fn: fn([(a1, b1)], {0: v5}, "x", ["only"], None))
    case("values_echo", "values.pt", "echo", [("s", "string", "nul\u0000inside, ünïcode")],
         lambda fn: fn("nul\u0000inside, ünïcode"))
    ids = torch.tensor([[101, 7, 9, 102], [101, 8, 102, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    case("dict_input", "dict_input.pt", "forward",
         [("batch.input_ids", "tensor", ids), ("batch.attention_mask", "tensor", mask)],
         lambda fn: fn({"input_ids": ids, "attention_mask": mask}))
    if "detection.pt" in scripted:
        im0 = torch.rand(3, 200, 240, generator=g)
        im1 = torch.rand(3, 160, 180, generator=g)
        case("detection", "detection.pt", "forward",
             [("images.0", "tensor", im0), ("images.1", "tensor", im1)],
             lambda fn: fn([im0, im1]))

    with open(os.path.join(out_dir, "values_reference.json"), "w") as f:
        json.dump({"torch_version": torch.__version__, "cases": cases}, f, indent=1)
