"""End-to-end tests of the torchinfer command-line tool against the shared model fixtures.

    python3 cli_test.py --cli build/tools/torchinfer/torchinfer --models build/models [unittest args]

Needs numpy only (NumPy reads what the CLI writes and writes what it reads, so the CLI's .npy
code is checked against an independent implementation). Expected values come from
models/reference.json and models/values_reference.json (structured inputs and outputs: str,
None, lists, dicts, the torchvision detection model), written by the exporter that made the
fixtures.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np

CLI = None
MODELS = None
TOL_ABS, TOL_REL = 1e-6, 1e-5  # as tests/capi/test_reference.cpp


def cli(*args, cwd=None):
    """Runs the CLI; returns (exit status, stdout, stderr)."""
    p = subprocess.run([CLI, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def model(name):
    return os.path.join(MODELS, name)


def reference():
    with open(model("reference.json")) as f:
        return json.load(f)


def values_reference():
    with open(model("values_reference.json")) as f:
        return json.load(f)


def file_stem(leaf):
    """The CLI's file name for a leaf (before a clash suffix)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", leaf) or "_"


def torchvision_ops():
    """The path of torchvision's operator library, or None when the fixtures have no detection model."""
    try:
        with open(model("torchvision_ops.txt")) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


KNOWN_BLAS = re.compile(r"^(openblas[-a-z]*|blis[-a-z]*|atlas|OpenBLAS|BLIS|MKL|reference BLAS|LibTorch's own)")


class CliCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="ti-cli-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def save(self, name, array):
        path = os.path.join(self.tmp, name)
        np.save(path, array)
        return path

    def ok(self, *args, cwd=None):
        rc, out, err = cli(*args, cwd=cwd)
        self.assertEqual(rc, 0, f"torchinfer {' '.join(map(str, args))}\nstdout: {out}\nstderr: {err}")
        return out, err

    def fails(self, code, status, *args):
        """Expects exit `status` with exactly one stderr line 'CODE: ...' and nothing on stdout."""
        rc, out, err = cli(*args)
        self.assertEqual(rc, status, f"stderr: {err}")
        self.assertEqual(out, "")
        self.assertTrue(err.startswith(code + ": "), f"expected {code}, stderr: {err}")
        return err


class InfoTest(CliCase):
    def test_text(self):
        out, _ = self.ok("info", model("named.pt"))
        self.assertIn("format:  TorchScript\n", out)
        self.assertIn("device:  cpu\n", out)
        self.assertIn("methods: forward\n", out)
        self.assertRegex(out, r"\n  ids +Tensor\n  mask +Tensor\n  bias +Optional\[Tensor\]\n  scale +float\n")
        out, _ = self.ok("info", model("structured.pt"))
        self.assertIn("methods: dict_out, forward, scalars, text\n", out)

    def test_json(self):
        out, _ = self.ok("info", "--json", model("named.pt"))
        info = json.loads(out)
        self.assertEqual(info["format"], "torchscript")
        self.assertEqual(info["device"], "cpu")
        self.assertEqual(info["methods"], ["forward"])
        self.assertEqual(info["inputs"], [
            {"name": "ids", "type": "Tensor"}, {"name": "mask", "type": "Tensor"},
            {"name": "bias", "type": "Optional[Tensor]"}, {"name": "scale", "type": "float"}])
        self.assertEqual(info["torch_version"].split(".")[:2], reference()["torch_version"].split(".")[:2])
        info = json.loads(self.ok("info", model("demo.pt"), "--json")[0])
        self.assertEqual(info["inputs"], [{"name": "features", "type": "Tensor"}])

    def test_aotinductor_package(self):
        if not os.path.exists(model("dynamic.pt2")):
            self.skipTest("no .pt2 fixtures (LibTorch older than 2.6)")
        info = json.loads(self.ok("info", "--json", model("dynamic.pt2"))[0])
        self.assertEqual(info["format"], "aotinductor")
        self.assertIn("forward", info["methods"])
        self.assertEqual([i["name"] for i in info["inputs"]], ["x", "y"])
        for i in info["inputs"]:
            self.assertTrue(i["type"].startswith("Tensor(float32, ["), i)
        out, _ = self.ok("info", model("dynamic.pt2"))
        self.assertIn("format:  AOTInductor (.pt2)\n", out)

    def test_schemas(self):
        if not os.path.exists(model("values.pt")):
            self.skipTest("no values.pt (fixtures of issue 16 not built)")
        out, _ = self.ok("info", model("values.pt"))
        self.assertIn("methods: echo, float_keys, forward\n", out)
        self.assertIn("\nschemas:\n  echo(str s) -> str\n  float_keys(Tensor x) -> Dict(float, Tensor)\n  forward(", out)
        self.assertRegex(out, r"(?m)^  forward\(\(Tensor, Tensor\)\[\] pairs, Dict\(int, Tensor\) by_id, str text, "
                              r"str\[\] words, Tensor\? maybe=None, int k=2, float scale=1\.?0?\) -> ")
        info = json.loads(self.ok("info", "--json", model("values.pt"))[0])
        self.assertEqual(list(info["schemas"]), info["methods"])
        self.assertEqual(info["schemas"]["echo"], "echo(str s) -> str")
        info = json.loads(self.ok("info", "--json", model("named.pt"))[0])
        self.assertTrue(info["schemas"]["forward"].startswith("forward(Tensor ids, Tensor mask, "), info["schemas"])

    def test_blas(self):
        """--version and info name the BLAS LibTorch's matrix products go through."""
        out, _ = self.ok("--version")
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("torchinfer "), out)
        self.assertTrue(lines[1].startswith("blas: "), out)
        name = lines[1][len("blas: "):]
        self.assertRegex(name, KNOWN_BLAS)
        self.assertIn(f"\nblas:    {name}\n", self.ok("info", model("mlp.pt"))[0])
        blas = json.loads(self.ok("info", "--json", model("mlp.pt"))[0])["blas"]
        self.assertTrue(name.startswith(blas["name"]), (name, blas))
        self.assertEqual(blas["slow"], blas["name"] == "reference BLAS")
        if blas["path"]:
            self.assertTrue(os.path.isabs(blas["path"]) and os.path.exists(blas["path"]), blas)
            self.assertEqual(os.path.realpath(blas["path"]), blas["path"])
        if blas["slow"]:
            self.assertIn("install libopenblas0-pthread", name)

    def test_help(self):
        for command in ("info", "run", "bench"):
            out, _ = self.ok(command, "--help")
            self.assertTrue(out.startswith(f"Usage: torchinfer {command} "), out)
        out, _ = self.ok("--help")
        self.assertIn("Commands:", out)
        bench_help = self.ok("bench", "--help")[0]
        self.assertIn("concurrent callers", bench_help)
        self.assertIn("--intra-op-threads", bench_help)
        for option in ("--batch N", "--batch-delay-us", "--batch-workers", "--compare", "--ops", "--no-native-code"):
            self.assertIn(option, bench_help)
        run_help = self.ok("run", "--help")[0]
        for text in ("str:TEXT", "int:N", "float:X", "bool:true|false", "none", "empty", "strfile:FILE", "--ops",
                     "--no-native-code", "--json"):
            self.assertIn(text, run_help)


class RunTest(CliCase):
    def check_outputs(self, out_dir, expected, stdout):
        for o in expected:
            path = os.path.join(out_dir, o["name"] + ".npy")
            got = np.load(path)
            self.assertEqual(str(got.dtype), o["dtype"], o["name"])
            self.assertEqual(list(got.shape), o["shape"], o["name"])
            want = np.array(o["data"], dtype=o["dtype"]).reshape(o["shape"])
            if got.dtype.kind == "f":
                np.testing.assert_allclose(got, want, rtol=TOL_REL, atol=TOL_ABS, err_msg=o["name"])
            else:
                np.testing.assert_array_equal(got, want, err_msg=o["name"])
            self.assertRegex(stdout, rf"(?m)^{re.escape(o['name'])} +{o['dtype']} +\[.*-> {re.escape(path)}$")
        self.assertEqual(sorted(os.listdir(out_dir)), sorted(o["name"] + ".npy" for o in expected))

    def test_reference_cases(self):
        """Every case of reference.json (TorchScript, and .pt2 where exported), through the CLI."""
        kinds = set()
        for case in reference()["cases"]:
            with self.subTest(case=case["name"]):
                case_dir = os.path.join(self.tmp, case["name"])
                os.mkdir(case_dir)
                args = ["run", model(case["model"]), "--method", case["method"], "-o", os.path.join(case_dir, "out")]
                for i in case["inputs"]:
                    arr = np.array(i["data"], dtype=i["dtype"]).reshape(i["shape"])
                    path = os.path.join(case_dir, f"in_{i['name']}.npy")
                    np.save(path, arr)
                    args.append(f"{i['name']}={path}" if case["named"] else path)
                stdout, _ = self.ok(*args)
                self.check_outputs(os.path.join(case_dir, "out"), case["outputs"], stdout)
                kinds.add((case["model"], case["named"]))
        self.assertIn(("mlp.pt", False), kinds)
        self.assertIn(("demo.pt", False), kinds)
        self.assertIn(("named.pt", True), kinds)

    def test_named_inputs_any_order(self):
        ids = self.save("ids.npy", np.array([[1, 2, 3]], np.float32))
        mask = self.save("mask.npy", np.array([[1, 0, 1]], np.float32))
        first, _ = self.ok("run", model("named.pt"), f"mask={mask}", f"ids={ids}", "-o", self.tmp + "/a")
        second, _ = self.ok("run", model("named.pt"), ids, mask, "-o", self.tmp + "/b")
        a, b = np.load(self.tmp + "/a/0.npy"), np.load(self.tmp + "/b/0.npy")
        np.testing.assert_array_equal(a, b)
        self.assertEqual(a.shape, (1, 3))

    def test_default_output_dir_is_current_directory(self):
        x = self.save("x.npy", np.ones((1, 16), np.float32))
        stdout, _ = self.ok("run", model("mlp.pt"), x, cwd=self.tmp)
        self.assertTrue(os.path.isfile(os.path.join(self.tmp, "0.npy")))
        self.assertRegex(stdout, r"(?m)^0 +float32 +\[1, 4\] +\[.*\] -> 0\.npy$")

    def test_every_dtype_round_trips_through_identity(self):
        """NumPy writes, the CLI reads, identity.pt returns it, the CLI writes, NumPy reads."""
        arrays = {
            "float32": np.array([[1.5, -2.25, 3e-8]], np.float32),
            "float64": np.array([1e300, -0.0, 2.5]),
            "float16": np.array([[0.5, -65504.0], [6e-5, 1.0]], np.float16),
            "int8": np.array([-128, 0, 127], np.int8),
            "uint8": np.array([0, 200, 255], np.uint8),
            "int16": np.array([-32768, 7, 32767], np.int16),
            "int32": np.array([[-2**31, 5], [2**31 - 1, 0]], np.int32),
            "int64": np.array([-2**63, 2**63 - 1], np.int64),
            "bool": np.array([True, False, True]),
            "scalar": np.array(4.5, np.float32),
            "empty": np.zeros((0, 4), np.float32),
        }
        for label, arr in arrays.items():
            with self.subTest(dtype=label):
                path = self.save(f"{label}.npy", arr)
                out_dir = os.path.join(self.tmp, "out_" + label)
                self.ok("run", model("identity.pt"), path, "-o", out_dir)
                got = np.load(os.path.join(out_dir, "0.npy"))
                self.assertEqual(got.dtype, arr.dtype)
                self.assertEqual(got.shape, arr.shape)
                np.testing.assert_array_equal(got, arr)

    def test_string_output(self):
        """A str result is written as <leaf>.txt and shown in the summary (it was TI_ERR_UNSUPPORTED)."""
        x = self.save("x.npy", np.ones((2, 3), np.float32))
        out_dir = os.path.join(self.tmp, "out")
        stdout, _ = self.ok("run", model("structured.pt"), "--method", "text", x, "-o", out_dir)
        with open(os.path.join(out_dir, "0.txt"), "rb") as f:
            self.assertEqual(f.read(), b"not a tensor")
        self.assertRegex(stdout, rf'(?m)^0 +str +- +"not a tensor" -> {re.escape(out_dir)}/0\.txt$')
        self.assertEqual(os.listdir(out_dir), ["0.txt"])

    def test_npy_format_versions(self):
        arr = np.arange(6, dtype=np.int32).reshape(2, 3)
        for version in [(1, 0), (2, 0), (3, 0)]:
            with self.subTest(version=version):
                path = os.path.join(self.tmp, f"v{version[0]}.npy")
                with open(path, "wb") as f:
                    np.lib.format.write_array(f, arr, version=version)
                out_dir = os.path.join(self.tmp, f"out{version[0]}")
                self.ok("run", model("identity.pt"), path, "-o", out_dir)
                np.testing.assert_array_equal(np.load(os.path.join(out_dir, "0.npy")), arr)


class BenchTest(CliCase):
    def test_text(self):
        x = self.save("x.npy", np.ones((1, 16), np.float32))
        out, err = self.ok("bench", model("mlp.pt"), "--input", x, "--iterations", "20")
        self.assertEqual(err, "")  # no progress line when stderr is not a terminal
        self.assertRegex(out, r"(?m)^calls: +20 in [0-9.]+ s$")
        self.assertRegex(out, r"(?m)^callers: +1 concurrent, ")
        m = re.search(r"(?m)^throughput: +([0-9.]+) calls/s$", out)
        self.assertIsNotNone(m, out)
        self.assertGreater(float(m.group(1)), 0)
        self.assertRegex(out, r"(?m)^latency: +p50 [0-9.]+ (us|ms|s) +p90 [0-9.]+ (us|ms|s) +p99 [0-9.]+ (us|ms|s) ")

    def test_json(self):
        x = self.save("x.npy", np.ones((5, 16), np.float32))
        out, err = self.ok("bench", model("mlp.pt"), "--input", x, "--iterations", "20", "--json",
                           "--threads", "2", "--warmup", "3", "--intra-op-threads", "1")
        self.assertEqual(err, "")
        r = json.loads(out)
        self.assertEqual(r["calls"], 20)
        self.assertEqual(r["callers"], 2)
        self.assertEqual(r["intra_op_threads"], 1)
        self.assertEqual(r["warmup_per_caller"], 3)
        self.assertEqual(r["method"], "forward")
        self.assertEqual(r["format"], "torchscript")
        lat = r["latency_ms"]
        self.assertGreater(lat["min"], 0)
        self.assertLessEqual(lat["min"], lat["p50"])
        self.assertLessEqual(lat["p50"], lat["p90"])
        self.assertLessEqual(lat["p90"], lat["p99"])
        self.assertLessEqual(lat["p99"], lat["max"])
        self.assertGreater(r["seconds"], 0)
        self.assertAlmostEqual(r["throughput_per_s"], 20 / r["seconds"], delta=1e-6 * r["throughput_per_s"])

    def test_named_inputs_and_seconds(self):
        ids = self.save("ids.npy", np.ones((1, 3), np.float32))
        mask = self.save("mask.npy", np.ones((1, 3), np.float32))
        r = json.loads(self.ok("bench", model("named.pt"), "--input", f"ids={ids}", "--input", f"mask={mask}",
                               "--seconds", "0.3", "--json")[0])
        self.assertGreater(r["calls"], 0)
        self.assertGreaterEqual(r["seconds"], 0.29)  # the measured phase ran to its deadline

    def test_batch(self):
        """32 callers through the batcher: batches of more than one request (batch_rows.pt)."""
        if not os.path.exists(model("batch_rows.pt")):
            self.skipTest("no batch_rows.pt (fixtures of issue 17 not built)")
        x = self.save("x.npy", np.ones((1, 4), np.float32))
        r = json.loads(self.ok("bench", model("batch_rows.pt"), "--input", x, "--threads", "8", "--iterations",
                               "400", "--warmup", "2", "--batch", "8", "--batch-delay-us", "2000", "--json")[0])
        self.assertEqual(r["mode"], "batched")
        self.assertEqual(r["calls"], 400)
        self.assertEqual(r["batcher"], {"max_batch": 8, "max_delay_us": 2000, "workers": 1, "max_queue": 1024})
        self.assertGreater(r["mean_batch_size"], 1)
        self.assertLessEqual(r["mean_batch_size"], 8)
        self.assertAlmostEqual(r["mean_batch_size"], 400 / r["batches"], delta=1e-9)
        out, _ = self.ok("bench", model("batch_rows.pt"), "--input", x, "--threads", "4", "--iterations", "100",
                         "--batch", "4", "--batch-delay-us", "1000", "--batch-workers", "2")
        self.assertRegex(out, r"(?m)^batcher: +max batch 4, max delay 1000 us, 2 workers, max queue 1024$")
        self.assertRegex(out, r"(?m)^requests: +100 in [0-9.]+ s$")
        self.assertRegex(out, r"(?m)^throughput: +[0-9.]+ requests/s$")
        m = re.search(r"(?m)^batches: +mean ([0-9.]+) requests per model call \(100 requests in ([0-9]+) calls\)$", out)
        self.assertIsNotNone(m, out)
        self.assertGreater(float(m.group(1)), 1)

    def test_compare(self):
        if not os.path.exists(model("batch_rows.pt")):
            self.skipTest("no batch_rows.pt (fixtures of issue 17 not built)")
        x = self.save("x.npy", np.ones((1, 4), np.float32))
        args = ["bench", model("batch_rows.pt"), "--input", x, "--threads", "4", "--iterations", "80", "--warmup", "1",
                "--compare", "--batch-delay-us", "500"]
        r = json.loads(self.ok(*args, "--json")[0])
        self.assertEqual(r["batcher"]["max_batch"], 32)  # --compare without --batch
        self.assertEqual((r["direct"]["mode"], r["batched"]["mode"]), ("direct", "batched"))
        self.assertEqual((r["direct"]["calls"], r["batched"]["calls"]), (80, 80))
        self.assertNotIn("batches", r["direct"])
        self.assertAlmostEqual(r["ratio"]["throughput"],
                               r["batched"]["throughput_per_s"] / r["direct"]["throughput_per_s"], places=6)
        self.assertAlmostEqual(r["ratio"]["p99"], r["batched"]["latency_ms"]["p99"] / r["direct"]["latency_ms"]["p99"],
                               places=6)
        out, _ = self.ok(*args)
        self.assertRegex(out, r"(?m)^direct \(ti_model_run\):\n  calls: +80 in ")
        self.assertRegex(out, r"(?m)^batched \(ti_batcher_run\):\n  requests: +80 in ")
        self.assertRegex(out, r"(?m)^  batches: +mean [0-9.]+ requests per model call")
        self.assertRegex(out, r"(?m)^batched/direct: throughput [0-9.]+x, p50 latency [0-9.]+x, p99 latency [0-9.]+x$")
        self.assertRegex(out, r"(?m)^blas: +")

    def test_structured_inputs(self):
        """Typed values go through ti_model_run_inputs in bench too."""
        if not os.path.exists(model("values.pt")):
            self.skipTest("no values.pt (fixtures of issue 16 not built)")
        r = json.loads(self.ok("bench", model("values.pt"), "--method", "echo", "--input", "s=str:hi",
                               "--threads", "2", "--iterations", "10", "--json")[0])
        self.assertEqual(r["calls"], 10)
        self.assertEqual(r["mode"], "direct")


class StructuredTest(CliCase):
    """PATH=VALUE inputs through ti_inputs_t, str and None results, operator libraries (issue 16)."""

    def setUp(self):
        super().setUp()
        if not os.path.exists(model("values_reference.json")):
            self.skipTest("no values_reference.json (fixtures of issue 16 not built)")

    def case_args(self, case, case_dir):
        """The command line of a values_reference.json case: one PATH=VALUE per input."""
        args = ["run", model(case["model"]), "--method", case["method"], "-o", os.path.join(case_dir, "out")]
        if case["ops"]:
            args += ["--ops", torchvision_ops()]
        for n, i in enumerate(case["inputs"]):
            path, kind = i["path"], i["kind"]
            self.assertNotIn("/", path)  # a '/' before '=' makes the argument a file name
            if kind == "tensor":
                value = self.save(f"{case['name']}_in{n}.npy",
                                  np.array(i["data"], dtype=i["dtype"]).reshape(i["shape"]))
            elif kind == "string" and "\0" in i["value"]:  # argv cannot carry NUL
                value = os.path.join(self.tmp, f"{case['name']}_in{n}.txt")
                with open(value, "wb") as f:
                    f.write(i["value"].encode())
                value = "strfile:" + value
            elif kind == "string":
                value = "str:" + i["value"]
            elif kind == "int":
                value = f"int:{i['value']}"
            elif kind == "float":
                value = f"float:{i['value']!r}"
            elif kind == "bool":
                value = "bool:" + ("true" if i["value"] else "false")
            else:
                value = kind  # none, empty
            args.append(f"{path}={value}")
        return args

    def check_case(self, case, out_dir, stdout, result):
        tol = dict(rtol=1e-4, atol=1e-3) if case["model"] == "detection.pt" else dict(rtol=TOL_REL, atol=TOL_ABS)
        by_name = {o["name"]: o for o in result["outputs"]}
        self.assertEqual([o["name"] for o in result["outputs"]], [o["name"] for o in case["outputs"]])
        files = []
        for o in case["outputs"]:
            got = by_name[o["name"]]
            self.assertEqual(got["kind"], o["kind"], o["name"])
            name_re = re.escape(o["name"])
            if o["kind"] == "tensor":
                path = os.path.join(out_dir, file_stem(o["name"]) + ".npy")
                files.append(os.path.basename(path))
                arr = np.load(path)
                want = np.array(o["data"], dtype=o["dtype"]).reshape(o["shape"])
                self.assertEqual(str(arr.dtype), o["dtype"], o["name"])
                self.assertEqual(list(arr.shape), o["shape"], o["name"])
                from_json = np.array(got["data"], dtype=o["dtype"]).reshape(got["shape"])
                if arr.dtype.kind == "f":
                    np.testing.assert_allclose(arr, want, err_msg=o["name"], **tol)
                    np.testing.assert_allclose(from_json, want, err_msg=o["name"], **tol)
                else:
                    np.testing.assert_array_equal(arr, want, err_msg=o["name"])
                    np.testing.assert_array_equal(from_json, want, err_msg=o["name"])
                self.assertEqual(got["file"], path)
                self.assertRegex(stdout, rf"(?m)^{name_re} +{o['dtype']} +\[.*-> {re.escape(path)}$")
            elif o["kind"] == "string":
                path = os.path.join(out_dir, file_stem(o["name"]) + ".txt")
                files.append(os.path.basename(path))
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), o["value"].encode(), o["name"])
                self.assertEqual(got["value"], o["value"])
                self.assertEqual(got["file"], path)
                self.assertRegex(stdout, rf'(?m)^{name_re} +str +- +".*" -> {re.escape(path)}$')
            else:
                self.assertEqual(set(got), {"name", "kind"})
                self.assertRegex(stdout, rf"(?m)^{name_re} +None +- +None$")
        self.assertEqual(sorted(os.listdir(out_dir)), sorted(files))

    def test_reference_cases(self):
        """Every case of values_reference.json: typed values and paths in, tensors, str and None out."""
        names = set()
        for case in values_reference()["cases"]:
            with self.subTest(case=case["name"]):
                case_dir = os.path.join(self.tmp, case["name"])
                os.mkdir(case_dir)
                args = self.case_args(case, case_dir)
                stdout, _ = self.ok(*args)
                result = json.loads(self.ok(*args, "--json")[0])
                self.assertEqual(result["method"], case["method"])
                self.check_case(case, os.path.join(case_dir, "out"), stdout, result)
                names.add(case["name"])
        self.assertTrue({"values_all", "values_defaults", "values_none", "values_echo", "dict_input"} <= names, names)
        if torchvision_ops():
            self.assertIn("detection", names)

    def test_typed_scalars_paths_and_string_leaves(self):
        a, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.full((2, 3), 0.5, np.float32)
        v = np.array([1, 2, 4], np.float32)
        out_dir = os.path.join(self.tmp, "out")
        args = ["run", model("values.pt"), f"pairs.0.0={self.save('a.npy', a)}", f"pairs.0.1={self.save('b.npy', b)}",
                f"by_id.-3={self.save('v.npy', v)}", "text=str:hello", "words.0=str:x.y", "words.1=str:z",
                "k=int:3", "scale=float:0.25", "maybe=none", "-o", out_dir]
        stdout, _ = self.ok(*args)
        self.assertAlmostEqual(float(np.load(os.path.join(out_dir, "0.npy"))), (a * b).sum() * 0.25 + 3, places=5)
        self.assertAlmostEqual(float(np.load(os.path.join(out_dir, "1.p_.q.npy"))), v.sum() - 3, places=5)
        self.assertEqual(int(np.load(os.path.join(out_dir, "1.n.npy"))), 1)
        for leaf, text in (("2", "HELLO!!!"), ("3.0", "z"), ("3.1", "x.y")):
            with open(os.path.join(out_dir, leaf + ".txt"), "rb") as f:
                self.assertEqual(f.read(), text.encode(), leaf)
            self.assertRegex(stdout, rf'(?m)^{re.escape(leaf)} +str +- +"{text}" -> {re.escape(out_dir)}/{leaf}\.txt$')
        self.assertRegex(stdout, r"(?m)^1\.p\\\.q +float32 +\[\] +\[.*\] -> .*/1\.p_\.q\.npy$")
        self.assertRegex(stdout, r"(?m)^4 +None +- +None$")
        self.assertFalse(any(f.startswith("4") for f in os.listdir(out_dir)))
        result = json.loads(self.ok(*args, "--json")[0])
        leaves = {o["name"]: o for o in result["outputs"]}
        self.assertEqual(list(leaves), ["0", "1.p\\.q", "1.n", "2", "3.0", "3.1", "4"])
        self.assertEqual(leaves["2"], {"name": "2", "kind": "string", "value": "HELLO!!!",
                                       "file": os.path.join(out_dir, "2.txt")})
        self.assertEqual(leaves["4"], {"name": "4", "kind": "none"})
        self.assertEqual(leaves["1.n"]["kind"], "tensor")
        self.assertEqual(leaves["1.n"]["data"], [1])

    def test_strings_keep_nul_and_utf8(self):
        text = "a\0b ünï ✓\n".encode()
        src = os.path.join(self.tmp, "in.txt")
        with open(src, "wb") as f:
            f.write(text)
        out_dir = os.path.join(self.tmp, "out")
        stdout, _ = self.ok("run", model("values.pt"), "--method", "echo", f"s=strfile:{src}", "-o", out_dir)
        with open(os.path.join(out_dir, "0.txt"), "rb") as f:
            self.assertEqual(f.read(), text)
        self.assertIn('"a\\u0000b ünï ✓\\n"', stdout)
        result = json.loads(self.ok("run", model("values.pt"), "--method", "echo", f"s=strfile:{src}", "--json",
                                    "-o", out_dir)[0])
        self.assertEqual(result["outputs"][0]["value"], text.decode())
        long = "x" * 500
        stdout, _ = self.ok("run", model("values.pt"), "--method", "echo", f"0=str:{long}", "-o", out_dir)
        self.assertIn("... (500 bytes) -> ", stdout)  # the summary cuts long text; the file has it all
        with open(os.path.join(out_dir, "0.txt")) as f:
            self.assertEqual(f.read(), long)

    def test_dict_input_and_positions(self):
        ids = self.save("ids.npy", np.array([[1, 2, 3]], np.int64))
        mask = self.save("mask.npy", np.array([[1, 0, 1]], np.int64))
        for first in ("batch", "0"):
            with self.subTest(first=first):
                out_dir = os.path.join(self.tmp, "out" + first)
                self.ok("run", model("dict_input.pt"), f"{first}.input_ids={ids}", f"{first}.attention_mask={mask}",
                        "-o", out_dir)
                np.testing.assert_array_equal(np.load(os.path.join(out_dir, "0.npy")), np.array([4.0], np.float32))

    def test_detection_needs_its_operator_library(self):
        ops = torchvision_ops()
        if not ops:
            self.skipTest("no detection.pt (torchvision not installed for this LibTorch)")
        case = next(c for c in values_reference()["cases"] if c["name"] == "detection")
        images = [self.save(f"im{n}.npy", np.array(i["data"], np.float32).reshape(i["shape"]))
                  for n, i in enumerate(case["inputs"])]
        out_dir = os.path.join(self.tmp, "out")
        stdout, _ = self.ok("run", model("detection.pt"), f"images.0={images[0]}", f"images.1={images[1]}",
                            "--ops", ops, "--ops", ops, "-o", out_dir)  # loading it twice is a no-op
        for leaf in ("1.0.boxes", "1.0.labels", "1.0.scores", "1.1.boxes", "1.1.labels", "1.1.scores"):
            self.assertRegex(stdout, rf"(?m)^{re.escape(leaf)} +(float32|int64) +\[")
            self.assertTrue(os.path.isfile(os.path.join(out_dir, leaf + ".npy")), leaf)
        self.assertEqual(np.load(os.path.join(out_dir, "1.0.boxes.npy")).shape[1:], (4,))

    def test_info_with_ops(self):
        ops = torchvision_ops()
        if not ops:
            self.skipTest("no detection.pt (torchvision not installed for this LibTorch)")
        out, _ = self.ok("info", model("detection.pt"), "--ops", ops)
        self.assertRegex(out, r"(?m)^  forward\(Tensor\[\] images, Dict\(str, Tensor\)\[\]\? targets=None\) -> ")


class ErrorTest(CliCase):
    def test_newer_model_is_model_format(self):
        self.fails("TI_ERR_MODEL_FORMAT", 1, "info", model("newer.pt"))
        self.fails("TI_ERR_MODEL_FORMAT", 1, "run", model("newer.pt"))

    def test_garbage_model_is_model_format(self):
        path = os.path.join(self.tmp, "garbage.pt")
        with open(path, "wb") as f:
            f.write(b"this is not a model\x00\x01\x02" * 10)
        self.fails("TI_ERR_MODEL_FORMAT", 1, "info", path)
        self.fails("TI_ERR_MODEL_FORMAT", 1, "bench", path, "--iterations", "1")

    def test_missing_model_is_not_found(self):
        self.fails("TI_ERR_NOT_FOUND", 1, "info", os.path.join(self.tmp, "absent.pt"))

    def test_missing_npy_is_not_found(self):
        err = self.fails("TI_ERR_NOT_FOUND", 1, "run", model("mlp.pt"), os.path.join(self.tmp, "absent.npy"))
        self.assertIn("absent.npy: No such file or directory", err)

    def test_malformed_npy(self):
        with open(self.save("x.npy", np.ones((1, 16), np.float32)), "rb") as f:
            good = f.read()
        cases = {
            "truncated.npy": (good[:-4], "data is shorter than declared: shape (1, 16) of <f4 needs 64 bytes, "
                                         "the file has 60"),
            "header.npy": (good[:40], "header length 118 runs past the end of the file (40 bytes)"),
            "magic.npy": (b"PK\x03\x04" + good[4:], "not a .npy file"),
        }
        for name, (data, message) in cases.items():
            with self.subTest(name=name):
                path = os.path.join(self.tmp, name)
                with open(path, "wb") as f:
                    f.write(data)
                err = self.fails("TI_ERR_INVALID_ARGUMENT", 1, "run", model("mlp.pt"), path)
                self.assertIn(f"{path}: not a usable .npy file: {message}", err)
                self.assertEqual(err.count("\n"), 1)

    def test_unsupported_npy_dtype_and_order(self):
        path = self.save("u32.npy", np.ones(3, np.uint32))
        err = self.fails("TI_ERR_INVALID_ARGUMENT", 1, "run", model("identity.pt"), path)
        self.assertIn("unsupported dtype '<u4'", err)
        path = self.save("fortran.npy", np.asfortranarray(np.ones((2, 3), np.float32)))
        self.assertIn("fortran_order is True", self.fails("TI_ERR_INVALID_ARGUMENT", 1, "run", model("identity.pt"), path))

    def test_wrong_input_count_is_invalid_argument(self):
        x = self.save("x.npy", np.ones((1, 16), np.float32))
        err = self.fails("TI_ERR_INVALID_ARGUMENT", 1, "run", model("mlp.pt"), x, x, "-o", self.tmp + "/out")
        self.assertIn("got 2", err)
        self.assertFalse(os.path.exists(self.tmp + "/out"))  # nothing written on failure
        self.fails("TI_ERR_INVALID_ARGUMENT", 1, "run", model("mlp.pt"))
        self.fails("TI_ERR_INVALID_ARGUMENT", 1, "bench", model("mlp.pt"), "--input", x, "--input", x,
                   "--iterations", "5")

    def test_unknown_input_name_is_invalid_argument(self):
        ids = self.save("ids.npy", np.ones((1, 3), np.float32))
        err = self.fails("TI_ERR_INVALID_ARGUMENT", 1, "run", model("named.pt"), f"ids={ids}", f"nope={ids}")
        self.assertIn("'nope'", err)

    def test_unknown_method_is_not_found(self):
        x = self.save("x.npy", np.ones((2, 3), np.float32))
        self.fails("TI_ERR_NOT_FOUND", 1, "run", model("structured.pt"), "--method", "absent", x)

    def test_model_error_is_runtime(self):
        x = self.save("x.npy", np.ones((2, 3), np.float32))  # mlp.pt wants 16 features
        self.fails("TI_ERR_RUNTIME", 1, "run", model("mlp.pt"), x, "-o", self.tmp)
        self.fails("TI_ERR_RUNTIME", 1, "bench", model("mlp.pt"), "--input", x, "--iterations", "3")

    def test_bad_paths_name_the_path(self):
        if not os.path.exists(model("values.pt")):
            self.skipTest("no values.pt (fixtures of issue 16 not built)")
        x = self.save("x.npy", np.ones((2, 3), np.float32))
        out_dir = os.path.join(self.tmp, "out")
        # set-time checks: each message starts with the argument's path, then the library's
        # message naming the argument, its declared type and what did not fit
        for arg, extra, message in [
                (f"pairs.x.0={x}", [], "input 'pairs' (List[Tuple[Tensor, Tensor]]): 'x' is not a list index"),
                (f"pairs.0.2={x}", [], "input 'pairs.0' (Tuple[Tensor, Tensor]): '2' is not a tuple index"),
                (f"by_id.key={x}", [], "input 'by_id' (Dict[int, Tensor]): 'key' is not an int key"),
                (f"nope.0={x}", [], "'nope'"),
                (f"text={x}", ["k=int:3"], "input 'text' (str)"),         # a tensor for a str
                ("k=str:three", [], "input 'k' (int)"),                   # a str for an int
                ("text=none", [], "input 'text' (str): None where the type is not Optional"),
                (f"text.0={x}", [], "input 'text' (str)")]:              # a path below a str
            with self.subTest(arg=arg):
                err = self.fails("TI_ERR_INVALID_ARGUMENT", 1, "run", model("values.pt"), arg, *extra, "-o", out_dir)
                self.assertTrue(err.startswith(f"TI_ERR_INVALID_ARGUMENT: {arg.split('=')[0]}: "), err)
                self.assertIn(message, err)
                self.assertEqual(err.count("\n"), 1, err)
        # a tensor by argument name alone takes ti_model_run, which checks the whole call
        self.fails("TI_ERR_INVALID_ARGUMENT", 1, "run", model("values.pt"), f"text={x}", "-o", out_dir)
        # run-time checks: a list with a gap, a required argument not set
        err = self.fails("TI_ERR_INVALID_ARGUMENT", 1, "run", model("values.pt"), f"pairs.0.0={x}",
                         f"pairs.0.1={x}", f"pairs.2.0={x}", f"pairs.2.1={x}", "by_id=empty", "text=str:t",
                         "words=empty", "-o", out_dir)
        self.assertIn("pairs", err)
        err = self.fails("TI_ERR_INVALID_ARGUMENT", 1, "run", model("values.pt"), "by_id=empty", "-o", out_dir)
        self.assertIn("pairs", err)
        self.assertFalse(os.path.exists(out_dir))  # nothing written on failure

    def test_typed_value_usage_errors(self):
        for arg, message in [("k=int:three", "int: needs a decimal 64-bit integer, not 'three'"),
                             ("k=int:99999999999999999999", "int: needs a decimal 64-bit integer"),
                             ("scale=float:x", "float: needs a number, not 'x'"),
                             ("flag=bool:yes", "bool: needs true or false, not 'yes'")]:
            with self.subTest(arg=arg):
                rc, out, err = cli("run", model("mlp.pt"), arg)
                self.assertEqual(rc, 2, err)
                self.assertEqual(out, "")
                self.assertIn(f"torchinfer run: '{arg}': {message}", err)
        err = self.fails("TI_ERR_NOT_FOUND", 1, "run", model("mlp.pt"), f"s=strfile:{self.tmp}/absent.txt")
        self.assertIn("absent.txt: No such file or directory", err)

    def test_operator_library_errors(self):
        missing = os.path.join(self.tmp, "absent_ops.so")
        err = self.fails("TI_ERR_NOT_FOUND", 1, "run", model("mlp.pt"), "--ops", missing)
        self.assertIn(missing, err)
        not_a_library = self.save("x.npy", np.ones(3, np.float32))
        err = self.fails("TI_ERR_RUNTIME", 1, "info", model("mlp.pt"), "--ops", not_a_library)
        self.assertIn(not_a_library, err)
        if os.path.exists(model("detection.pt")):
            # torchvision's library loaded in the process by nobody: the load names the operator
            err = self.fails("TI_ERR_MODEL_FORMAT", 1, "info", model("detection.pt"))
            self.assertIn("torchvision::", err)
            self.assertIn("ti_op_library_load", err)
            self.assertLess(len(err), 1000)

    def test_no_native_code_refuses_pt2(self):
        pt2 = next((model(n) for n in ("dynamic.pt2", "fake.pt2") if os.path.exists(model(n))), None)
        if pt2 is None:
            self.skipTest("no .pt2 fixture")
        for command in ("info", "run", "bench"):
            with self.subTest(command=command):
                err = self.fails("TI_ERR_UNSUPPORTED", 1, command, pt2, "--no-native-code")
                self.assertIn("native code", err)
        self.ok("info", model("mlp.pt"), "--no-native-code")  # TorchScript still loads

    def test_unsupported_device(self):
        self.fails("TI_ERR_UNSUPPORTED", 1, "info", model("mlp.pt"), "--device", "mps")

    def test_output_dir_is_a_file(self):
        x = self.save("x.npy", np.ones((1, 16), np.float32))
        err = self.fails("TI_ERR_INVALID_ARGUMENT", 1, "run", model("mlp.pt"), x, "-o", x)
        self.assertIn("not a directory", err)

    def test_usage_errors_exit_2(self):
        x = self.save("x.npy", np.ones((1, 16), np.float32))
        for args, message in [
            (["info"], "torchinfer info: missing MODEL"),
            (["info", model("mlp.pt"), "--bogus"], "torchinfer info: unknown option '--bogus'"),
            (["info", model("mlp.pt"), "extra"], "torchinfer info: unexpected argument 'extra'"),
            (["run", model("mlp.pt"), f"x={x}", x], "inputs must be all named"),
            (["run", model("mlp.pt"), x, "-o"], "option -o needs a value"),
            (["bench", model("mlp.pt"), x, "--seconds", "1", "--iterations", "2"], "not both"),
            (["bench", model("mlp.pt"), x, "--threads", "0"], "--threads needs an integer >= 1"),
            (["bench", model("mlp.pt"), x, "--json=yes"], "option --json takes no value"),
            (["bench", model("mlp.pt"), x, "--batch-delay-us", "10"], "need --batch or --compare"),
            (["bench", model("mlp.pt"), "--input", "k=int:3", "--batch", "4"], "tensor inputs only"),
            (["bench", model("mlp.pt"), x, "--batch", "0"], "--batch needs an integer >= 1"),
            (["info", model("mlp.pt"), "--no-native-code=1"], "option --no-native-code takes no value"),
            (["frobnicate"], "torchinfer: unknown command 'frobnicate'"),
            ([], "Usage: torchinfer COMMAND"),
        ]:
            with self.subTest(args=args):
                rc, out, err = cli(*args)
                self.assertEqual(rc, 2, err)
                self.assertEqual(out, "")
                self.assertIn(message, err)


def main():
    global CLI, MODELS
    argv = list(sys.argv)
    for flag in ("--cli", "--models"):
        i = argv.index(flag)
        value = argv[i + 1]
        del argv[i:i + 2]
        if flag == "--cli":
            CLI = os.path.abspath(value)
        else:
            MODELS = os.path.abspath(value)
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
