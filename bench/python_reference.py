#!/usr/bin/env python3
"""Python reference for the benchmark: the MLP fixture through torch.jit in Python, with the same
input shape, one intra-op thread and a copy of the output into a NumPy array per call, as the
C API and binding loops do. Prints `RESULT python us=<median µs per call>` last.

Usage: python_reference.py MODELS_DIR   (run with the interpreter whose torch matches the leg)
"""
import statistics
import sys
import time

import torch


def main():
    models = sys.argv[1]
    torch.set_num_threads(1)
    model = torch.jit.load(f"{models}/mlp.pt").eval()
    x = torch.tensor([[((i * 7919) % 1000) / 1000.0 - 0.5 for i in range(16)]], dtype=torch.float32)
    with torch.inference_mode():
        for _ in range(2000):
            model(x).numpy().copy()
        blocks = []
        for _ in range(100):
            start = time.perf_counter()
            for _ in range(200):
                model(x).numpy().copy()
            blocks.append((time.perf_counter() - start) / 200 * 1e6)
    print(f"torch {torch.__version__}: MLP predict + copy-out, median of 100 blocks of 200 calls")
    print(f"RESULT python us={statistics.median(blocks):.3f}")


if __name__ == "__main__":
    main()
