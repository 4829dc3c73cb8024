"""Whole-step peer for the video ResNet steps of bench/cases/video.ts: one step (forward,
cross-entropy, backward, SGD with momentum 0.9) of torchvision's R3D built from its own classes
at the case's widths and blocks per stage (torchvision hard-codes 64/128/256/512; at those widths
this is r3d_18 exactly), on the clips and labels the bench wrote.
usage: video_torch.py <exchange dir> torch <steps>
Reports the median ms of one step and this process's peak RSS."""
import numpy as np

from signature_io import peak_rss_mib, report, time_ms, torch_peer

folder, repeats, meta, a, torch = torch_peer()
from torch import nn  # noqa: E402 (after torch_peer set the thread count)
from torchvision.models.video import resnet as tv  # noqa: E402

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
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)


model = SizedVideoResNet(meta["widths"], meta["blocks"], meta["classes"])
model.train()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.from_numpy(a["x"])
y = torch.from_numpy(a["y"].astype(np.int64))


def step():
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()


label = f"torch {torch.__version__} + torchvision"
ms = time_ms(step, repeats, warmup=1)
report({label: ms}, memory={label: peak_rss_mib()})
