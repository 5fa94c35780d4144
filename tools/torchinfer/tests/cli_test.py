"""End-to-end tests of the torchinfer command-line tool against the shared model fixtures.

    python3 cli_test.py --cli build/tools/torchinfer/torchinfer --models build/models [unittest args]

Needs numpy only (NumPy reads what the CLI writes and writes what it reads, so the CLI's .npy
code is checked against an independent implementation). Expected values come from
models/reference.json, written by the exporter that made the fixtures.
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

    def test_help(self):
        for command in ("info", "run", "bench"):
            out, _ = self.ok(command, "--help")
            self.assertTrue(out.startswith(f"Usage: torchinfer {command} "), out)
        out, _ = self.ok("--help")
        self.assertIn("Commands:", out)
        bench_help = self.ok("bench", "--help")[0]
        self.assertIn("concurrent callers", bench_help)
        self.assertIn("--intra-op-threads", bench_help)


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

    def test_string_output_is_unsupported(self):
        x = self.save("x.npy", np.ones((2, 3), np.float32))
        self.fails("TI_ERR_UNSUPPORTED", 1, "run", model("structured.pt"), "--method", "text", x, "-o", self.tmp)

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
