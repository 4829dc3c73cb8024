"""Video ResNet training-step peer for bench/cases/video.ts: one step (forward,
cross-entropy, backward, SGD with momentum 0.9) of torchvision's R3D built from
its own classes at the case's widths and blocks per stage (torchvision
hard-codes 64/128/256/512; at those widths this is r3d_18 exactly).
usage: video_torch.py '{"widths": [...], "blocks": [...], "batch": n, "frames": t,
                        "size": s, "classes": k, "repeats": r}'
Prints {"ms": median milliseconds per step, "maxRssMiB": peak resident memory}."""
import json
import os
import resource
import statistics
import sys
import time

import torch
from torch import nn
from torchvision.models.video import resnet as tv

case = json.loads(sys.argv[1])
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
torch.manual_seed(0)


class SizedVideoResNet(tv.VideoResNet):
    """torchvision's VideoResNet.__init__ (and weight init) with the widths as a parameter."""

    def __init__(self, widths, blocks, num_classes):
        nn.Module.__init__(self)
        self.inplanes = widths[0]
        self.stem = nn.Sequential(
            nn.Conv3d(3, widths[0], kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
            nn.BatchNorm3d(widths[0]), nn.ReLU(inplace=True))
        for i, (w, b) in enumerate(zip(widths, blocks)):
            setattr(self, "layer%d" % (i + 1), self._make_layer(tv.BasicBlock, tv.Conv3DSimple, w, b, stride=1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(widths[3], num_classes)


model = SizedVideoResNet(case["widths"], case["blocks"], case["classes"])
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.randn(case["batch"], 3, case["frames"], case["size"], case["size"])
y = torch.randint(0, case["classes"], (case["batch"],))


def step():
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()


step()
times = []
for _ in range(case["repeats"]):
    t = time.perf_counter()
    step()
    times.append((time.perf_counter() - t) * 1e3)
print(json.dumps({"ms": statistics.median(times), "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
