"""Prepares the OIP tests' model directory and references with PyTorch (run by /usr/bin/python3).

    reference.py MODELS_DIR WORK_DIR

MODELS_DIR holds the links run.sh made. If it has no resnet18.pt (the fixtures are made with
--resnet only when asked), a ResNet-18 with random weights is exported into it. Writes:
  MODELS_DIR/resnet18.warmup.json   the warm-up request (a zero image) the server runs at start
  WORK_DIR/resnet_input.npy         a 1x3x224x224 float32 image (fixed seed)
  WORK_DIR/resnet_output.npy        PyTorch's output of resnet18.pt for it
"""
import json
import os
import sys

import numpy as np
import torch

models_dir, work_dir = sys.argv[1], sys.argv[2]
path = os.path.join(models_dir, "resnet18.pt")
if not os.path.exists(path):
    import torchvision
    torch.manual_seed(0)
    torch.jit.script(torchvision.models.resnet18(weights=None).eval()).save(path)
    print("reference.py: exported a ResNet-18 with random weights to", path)

net = torch.jit.load(path).eval()
image = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(18))
with torch.no_grad():
    out = net(image)
np.save(os.path.join(work_dir, "resnet_input.npy"), image.numpy())
np.save(os.path.join(work_dir, "resnet_output.npy"), out.numpy())
with open(os.path.join(models_dir, "resnet18.warmup.json"), "w") as f:
    json.dump({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3, 224, 224],
                           "data": [0] * (3 * 224 * 224)}]}, f)
