"""examples/go's Open Inference Protocol server, tested with clients nobody here wrote.

run.sh starts the server and runs this file twice, because tritonclient.grpc and kserve both
register the protocol's protobuf messages and cannot be imported into one process:
  OIP_CLIENT=triton   NVIDIA's tritonclient, HTTP and gRPC
  OIP_CLIENT=kserve   the KServe SDK's v2 clients (InferenceRESTClient, InferenceGRPCClient)
Environment: OIP_REST and OIP_GRPC (host:port), OIP_WORK (run.sh's work directory with the
ResNet-18 reference), TORCHINFER_TEST_MODELS (the fixtures: reference.json, values_reference.json).
"""
import asyncio
import json
import os
import re
import threading
import unittest
import urllib.request

import numpy as np

CLIENT = os.environ["OIP_CLIENT"]
REST = os.environ["OIP_REST"]
GRPC = os.environ["OIP_GRPC"]
WORK = os.environ["OIP_WORK"]
FIXTURES = os.environ["TORCHINFER_TEST_MODELS"]


def load_json(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def demo_case():
    return next(c for c in load_json("reference.json")["cases"] if c["name"] == "demo")


def values_case(name):
    path = os.path.join(FIXTURES, "values_reference.json")
    if not os.path.exists(path):
        return None
    return next((c for c in load_json("values_reference.json")["cases"] if c["name"] == name), None)


NP = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32, "bool": np.bool_}
OIP = {"float32": "FP32", "float64": "FP64", "int64": "INT64", "int32": "INT32", "bool": "BOOL"}


def array(t):
    return np.array(t["data"], dtype=NP[t["dtype"]]).reshape(t["shape"])


def assert_close(test, got, want, rtol=1e-5, atol=1e-6, what=""):
    test.assertEqual(list(got.shape), list(want.shape), what)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)


def resnet():
    return (np.load(os.path.join(WORK, "resnet_input.npy")),
            np.load(os.path.join(WORK, "resnet_output.npy")))


def metric(name):
    """The value of a metric line of /metrics (name with its labels), or None."""
    with urllib.request.urlopen(f"http://{REST}/metrics") as r:
        m = re.search(r"^" + re.escape(name) + r" (\S+)$", r.read().decode(), re.M)
    return float(m.group(1)) if m else None


def live_handles():
    return int(metric("torchinfer_live_handles"))


def served(model):
    return os.path.exists(os.path.join(WORK, "models", model + ".pt"))


if CLIENT == "triton":
    import tritonclient.grpc as grpcclient
    import tritonclient.http as httpclient
    from tritonclient.utils import InferenceServerException

    class Triton:
        """The same checks over HTTP and gRPC: subclasses set mod, client() and the status names."""
        mod = None
        BAD = NOT_FOUND = None

        def client(self):
            raise NotImplementedError

        def metadata(self, c, model):
            return c.get_model_metadata(model)

        def test_health_and_metadata(self):
            c = self.client()
            self.assertTrue(c.is_server_live())
            self.assertTrue(c.is_server_ready())
            self.assertTrue(c.is_model_ready("demo"))
            self.assertTrue(c.is_model_ready("demo", "1"))
            md = self.metadata(c, "demo")
            self.assertEqual(md["name"], "demo")
            self.assertEqual(md["versions"], ["1"])
            self.assertEqual([(i["name"], i["datatype"], [int(d) for d in i["shape"]]) for i in md["inputs"]],
                             [("features", "FP32", [-1, -1])])
            self.assertEqual([o["name"] for o in md["outputs"]], ["logits", "probs"])
            sm = c.get_server_metadata() if self.mod is httpclient else c.get_server_metadata(as_json=True)
            self.assertEqual(sm["name"], "torchinfer")

        def infer_demo(self, c, binary):
            case = demo_case()
            x = array(case["inputs"][0])
            inp = self.mod.InferInput("features", list(x.shape), "FP32")
            if self.mod is httpclient:
                inp.set_data_from_numpy(x, binary_data=binary)
                outs = [httpclient.InferRequestedOutput(o["name"], binary_data=binary) for o in case["outputs"]]
            else:
                inp.set_data_from_numpy(x)
                outs = [grpcclient.InferRequestedOutput(o["name"]) for o in case["outputs"]]
            r = c.infer("demo", [inp], outputs=outs)
            for o in case["outputs"]:
                assert_close(self, r.as_numpy(o["name"]), array(o), what=o["name"])

        def test_demo(self):
            c = self.client()
            self.infer_demo(c, binary=False)
            self.infer_demo(c, binary=True)

        def test_resnet18_image_as_binary(self):
            image, want = resnet()
            c = self.client()
            inp = self.mod.InferInput("x", list(image.shape), "FP32")
            if self.mod is httpclient:
                inp.set_data_from_numpy(image, binary_data=True)
                r = c.infer("resnet18", [inp], outputs=[httpclient.InferRequestedOutput("0", binary_data=True)])
            else:
                inp.set_data_from_numpy(image)
                r = c.infer("resnet18", [inp])
            assert_close(self, r.as_numpy("0"), want, rtol=1e-4, atol=1e-4, what="resnet18")

        def expect_error(self, model, inputs, status, text):
            with self.assertRaises(InferenceServerException) as e:
                self.client().infer(model, inputs)
            self.assertEqual(e.exception.status(), status, e.exception)
            self.assertIn(text, e.exception.message())

        def test_errors(self):
            m = self.mod

            def inp(name, shape, dtype, np_dtype):
                i = m.InferInput(name, shape, dtype)
                i.set_data_from_numpy(np.ones(shape, dtype=np_dtype))
                return i
            # A datatype the protocol has and LibTorch has not, and one the model does not take.
            self.expect_error("demo", [inp("features", [1, 4], "UINT32", np.uint32)], self.BAD, "UINT32 is not supported")
            self.expect_error("demo", [inp("features", [1, 4], "INT32", np.int32)], self.BAD, "TI_ERR_RUNTIME")
            self.expect_error("demo", [inp("features", [1, 3], "FP32", np.float32)], self.BAD, "shapes cannot be multiplied")
            self.expect_error("nope", [inp("features", [1, 4], "FP32", np.float32)], self.NOT_FOUND, 'unknown model "nope"')
            self.expect_error("demo", [inp("nope", [1, 4], "FP32", np.float32)], self.BAD, "nope")

        def test_values_bytes(self):
            case = values_case("values_all")
            if case is None or not served("values"):
                self.skipTest("values.pt not built")
            inputs = []
            for i in case["inputs"]:
                if i["kind"] == "tensor":
                    x = array(i)
                    t = self.mod.InferInput(i["path"], list(x.shape), OIP[i["dtype"]])
                elif i["kind"] == "string":
                    x = np.array([i["value"].encode()], dtype=np.object_)
                    t = self.mod.InferInput(i["path"], [1], "BYTES")
                elif i["kind"] in ("int", "float"):
                    x = np.array([i["value"]], dtype=np.int64 if i["kind"] == "int" else np.float64)
                    t = self.mod.InferInput(i["path"], [1], "INT64" if i["kind"] == "int" else "FP64")
                else:
                    continue
                t.set_data_from_numpy(x)
                inputs.append(t)
            r = self.client().infer("values", inputs)
            for o in case["outputs"]:
                got = r.as_numpy(o["name"])
                if o["kind"] == "string":
                    self.assertEqual(list(got), [o["value"].encode()], o["name"])
                elif o["kind"] == "tensor":
                    assert_close(self, got, array(o), what=o["name"])

        def test_detection_with_ops(self):
            case = values_case("detection")
            if case is None or not served("detection"):
                self.skipTest("detection.pt not built")
            inputs = []
            for i in case["inputs"]:
                x = array(i)
                t = self.mod.InferInput(i["path"], list(x.shape), "FP32")
                if self.mod is httpclient:
                    t.set_data_from_numpy(x, binary_data=True)
                else:
                    t.set_data_from_numpy(x)
                inputs.append(t)
            r = self.client().infer("detection", inputs)
            for o in case["outputs"]:
                assert_close(self, r.as_numpy(o["name"]), array(o), rtol=1e-4, atol=1e-3, what=o["name"])

    class TritonHTTP(Triton, unittest.TestCase):
        mod = httpclient
        BAD, NOT_FOUND = "400", "404"

        def client(self):
            return httpclient.InferenceServerClient(REST)

    class TritonGRPC(Triton, unittest.TestCase):
        mod = grpcclient
        BAD, NOT_FOUND = "StatusCode.INVALID_ARGUMENT", "StatusCode.NOT_FOUND"

        def client(self):
            return grpcclient.InferenceServerClient(GRPC)

        def metadata(self, c, model):
            return c.get_model_metadata(model, as_json=True)

    class Concurrency(unittest.TestCase):
        def test_64_clients(self):
            """64 clients at once (half HTTP, half gRPC), each with its own connection; then the
            library's live handles are where they were while idle."""
            idle = live_handles()
            case = demo_case()
            x = array(case["inputs"][0])
            want = array(case["outputs"][1])
            image, image_want = resnet()
            errors = []
            start = threading.Barrier(64)

            def client(k):
                try:
                    mod = httpclient if k % 2 == 0 else grpcclient
                    c = mod.InferenceServerClient(REST if mod is httpclient else GRPC)
                    start.wait()
                    for n in range(10):
                        big = n == 0 and k % 8 == 0  # a few ResNet-18 images among the demo calls
                        inp = mod.InferInput("x" if big else "features", list((image if big else x).shape), "FP32")
                        inp.set_data_from_numpy(image if big else x)
                        r = c.infer("resnet18" if big else "demo", [inp])
                        if big:
                            np.testing.assert_allclose(r.as_numpy("0"), image_want, rtol=1e-4, atol=1e-4)
                        else:
                            np.testing.assert_allclose(r.as_numpy("probs"), want, rtol=1e-5, atol=1e-6)
                except Exception as e:  # reported below, with the client's number
                    errors.append(f"client {k}: {e!r}")

            threads = [threading.Thread(target=client, args=(k,)) for k in range(64)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
            self.assertEqual(live_handles(), idle)
            calls = metric('torchinfer_batcher_calls_total{model="demo"}')
            if calls is not None:  # the server runs with -batch: the demo calls were batched
                requests = metric('torchinfer_batcher_requests_total{model="demo"}')
                print(f"\nbatcher: {requests:.0f} demo requests in {calls:.0f} calls", end=" ")
                self.assertLess(calls, requests)

elif CLIENT == "kserve":
    import logging

    import grpc
    import httpx
    from kserve import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest, RESTConfig
    from kserve.protocol.infer_type import RequestedOutput

    logging.getLogger("kserve").setLevel(logging.CRITICAL)  # it logs each expected error with a traceback

    class KServeREST(unittest.TestCase):
        """KServe's SDK, v2 protocol over REST."""

        def run_async(self, make):
            async def go():
                client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=60))
                try:
                    return await make(client)
                finally:
                    await client.close()
            return asyncio.run(go())

        base = f"http://{REST}"

        def test_health(self):
            self.assertTrue(self.run_async(lambda c: c.is_server_live(self.base)))
            self.assertTrue(self.run_async(lambda c: c.is_server_ready(self.base)))
            self.assertTrue(self.run_async(lambda c: c.is_model_ready(self.base, "demo")))

        def test_demo_json_and_binary(self):
            case = demo_case()
            x = array(case["inputs"][0])
            for binary in (False, True):
                inp = InferInput("features", list(x.shape), "FP32")
                inp.set_data_from_numpy(x, binary_data=binary)
                req = InferRequest("demo", [inp], request_outputs=[
                    RequestedOutput(o["name"], {"binary_data": binary}) for o in case["outputs"]])
                r = self.run_async(lambda c: c.infer(self.base, req, model_name="demo"))
                self.assertEqual(r.model_name, "demo")
                got = {o.name: o.as_numpy() for o in r.outputs}
                for o in case["outputs"]:
                    assert_close(self, got[o["name"]], array(o), what=f"{o['name']} binary={binary}")

        def test_resnet18_image_as_binary(self):
            image, want = resnet()
            inp = InferInput("x", list(image.shape), "FP32")
            inp.set_data_from_numpy(image, binary_data=True)
            req = InferRequest("resnet18", [inp], parameters={"binary_data_output": True})
            r = self.run_async(lambda c: c.infer(self.base, req, model_name="resnet18"))
            assert_close(self, r.outputs[0].as_numpy(), want, rtol=1e-4, atol=1e-4, what="resnet18")

        def test_errors(self):
            for model, shape, dtype, status, text in (
                    ("demo", [1, 3], "FP32", 400, "shapes cannot be multiplied"),
                    ("demo", [1, 4], "FP16", 400, "TI_ERR_RUNTIME"),
                    ("nope", [1, 4], "FP32", 404, 'unknown model \\"nope\\"')):
                inp = InferInput("features", shape, dtype)
                inp.set_data_from_numpy(np.ones(shape, dtype=np.float16 if dtype == "FP16" else np.float32), binary_data=True)
                with self.assertRaises(httpx.HTTPStatusError) as e:
                    self.run_async(lambda c: c.infer(self.base, InferRequest(model, [inp]), model_name=model))
                self.assertEqual(e.exception.response.status_code, status)
                self.assertIn(text, e.exception.response.text)

    class KServeGRPC(unittest.TestCase):
        """KServe's SDK, v2 protocol over gRPC (InferenceGRPCClient)."""

        def run_async(self, make):
            async def go():
                client = InferenceGRPCClient(GRPC, timeout=60)
                try:
                    return await make(client)
                finally:
                    await client.close()
            return asyncio.run(go())

        def test_health(self):
            self.assertTrue(self.run_async(lambda c: c.is_server_live()))
            self.assertTrue(self.run_async(lambda c: c.is_server_ready()))
            self.assertTrue(self.run_async(lambda c: c.is_model_ready("demo")))

        def test_demo_and_resnet18(self):
            case = demo_case()
            x = array(case["inputs"][0])
            image, want = resnet()
            for model, name, data, outputs in (
                    ("demo", "features", x, {o["name"]: array(o) for o in case["outputs"]}),
                    ("resnet18", "x", image, {"0": want})):
                inp = InferInput(name, list(data.shape), "FP32")
                inp.set_data_from_numpy(data)
                r = self.run_async(lambda c: c.infer(InferRequest(model, [inp])))
                got = {o.name: o.as_numpy() for o in r.outputs}
                self.assertEqual(sorted(got), sorted(outputs))
                for n, w in outputs.items():
                    assert_close(self, got[n], w, rtol=1e-4, atol=1e-4, what=f"{model} {n}")

        def test_errors(self):
            for model, shape, code, text in (("demo", [1, 3], grpc.StatusCode.INVALID_ARGUMENT, "shapes cannot be multiplied"),
                                             ("nope", [1, 4], grpc.StatusCode.NOT_FOUND, 'unknown model "nope"')):
                inp = InferInput("features", shape, "FP32")
                inp.set_data_from_numpy(np.ones(shape, dtype=np.float32))
                with self.assertRaises(grpc.RpcError) as e:
                    self.run_async(lambda c: c.infer(InferRequest(model, [inp])))
                self.assertEqual(e.exception.code(), code)
                self.assertIn(text, e.exception.details())

else:
    raise SystemExit(f"OIP_CLIENT must be triton or kserve, not {CLIENT!r}")

if __name__ == "__main__":
    unittest.main(verbosity=2)
