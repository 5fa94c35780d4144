"""Requests per second and p99 latency of the OIP server over gRPC, from tritonclient.

    bench_client.py HOST:PORT MODEL REQUESTS CONCURRENCY

MODEL is demo (a [1, 4] float32 input) or resnet18 (a [1, 3, 224, 224] image). Each of
CONCURRENCY threads has its own client and sends REQUESTS / CONCURRENCY requests one after
another, after 10 warm-up requests. Prints one line: model, concurrency, requests/s, p50, p99.
"""
import sys
import threading
import time

import numpy as np
import tritonclient.grpc as grpcclient

addr, model, total, conc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
name, shape = {"demo": ("features", [1, 4]), "resnet18": ("x", [1, 3, 224, 224])}[model]
x = np.random.default_rng(0).random(shape, dtype=np.float32)
latencies = []
lock = threading.Lock()
barrier = threading.Barrier(conc + 1)


def client():
    c = grpcclient.InferenceServerClient(addr)
    inp = grpcclient.InferInput(name, shape, "FP32")
    inp.set_data_from_numpy(x)
    for _ in range(10):
        c.infer(model, [inp]).as_numpy("0" if model == "resnet18" else "probs")
    barrier.wait()
    mine = []
    for _ in range(total // conc):
        t = time.perf_counter()
        c.infer(model, [inp]).as_numpy("0" if model == "resnet18" else "probs")
        mine.append(time.perf_counter() - t)
    with lock:
        latencies.extend(mine)


threads = [threading.Thread(target=client) for _ in range(conc)]
for t in threads:
    t.start()
barrier.wait()
start = time.perf_counter()
for t in threads:
    t.join()
elapsed = time.perf_counter() - start
lat = np.array(latencies) * 1e3
print(f"{model:9s} conc={conc}  {len(lat) / elapsed:9.1f} req/s  p50 {np.percentile(lat, 50):8.3f} ms  p99 {np.percentile(lat, 99):8.3f} ms")
