"""Whole-step peer for the detector step of bench/cases/detect.ts: the same FCOS-style network as
Tessera's models/detect Detector (Conv-BN-SiLU stages at strides 2..32 with one residual unit each,
1x1 laterals, nearest 2x upsample + concat + 3x3 fuse over strides 8/16/32, a shared decoupled head:
class logits, softplus box distances times a per-level scale and the stride, centerness), the same
loss (sigmoid focal loss on classes over all locations / positives, GIoU on positives weighted by the
centerness target, BCE on centerness), AdamW; the targets Tessera assigned come in the arrays.
usage: detect_step_torch.py <exchange dir> torch <steps>
Reports the median ms of one step and this process's peak RSS."""
import torch as _torch  # noqa: F401  (torch_peer imports and configures it)

from signature_io import peak_rss_mib, report, time_ms, torch_peer

folder, repeats, meta, a, torch = torch_peer()
nn, F = torch.nn, torch.nn.functional
torch.manual_seed(0)
C, K = meta["inChannels"], meta["numClasses"]
widths, neck, strides = meta["widths"], meta["neck"], [8, 16, 32]


class ConvBnSilu(nn.Sequential):
    def __init__(self, i, o, k, s=1):
        super().__init__(nn.Conv2d(i, o, k, s, (k - 1) // 2, bias=False), nn.BatchNorm2d(o), nn.SiLU())


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a, self.b = ConvBnSilu(c, c, 3), ConvBnSilu(c, c, 3)

    def forward(self, x):
        return x + self.b(self.a(x))


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        w = widths
        stages = [ConvBnSilu(C, w[0], 3, 2)]
        for s in range(1, 5):
            stages.append(nn.Sequential(ConvBnSilu(w[s - 1], w[s], 3, 2), *[Residual(w[s]) for _ in range(meta["blocks"][s - 1])]))
        self.stages = nn.ModuleList(stages)
        self.lateral = nn.ModuleList(ConvBnSilu(w[s], neck, 1) for s in (2, 3, 4))
        self.fuse = nn.ModuleList(ConvBnSilu(2 * neck, neck, 3) for _ in range(2))
        self.cls_branch, self.box_branch = ConvBnSilu(neck, neck, 3), ConvBnSilu(neck, neck, 3)
        self.cls_out, self.box_out, self.ctr_out = nn.Conv2d(neck, K, 1), nn.Conv2d(neck, 4, 1), nn.Conv2d(neck, 1, 1)
        self.level_scale = nn.Parameter(torch.ones(3))

    def forward(self, x):
        outs = []
        for s, stage in enumerate(self.stages):
            x = stage(x)
            if s >= 2:
                outs.append(x)
        c3, c4, c5 = (lat(o) for lat, o in zip(self.lateral, outs))
        p4 = self.fuse[1](torch.cat([F.interpolate(c5, scale_factor=2, mode="nearest"), c4], 1))
        p3 = self.fuse[0](torch.cat([F.interpolate(p4, scale_factor=2, mode="nearest"), c3], 1))
        n = x.shape[0]
        flat = lambda t: t.permute(0, 2, 3, 1).reshape(n, -1, t.shape[1])
        cls, box, ctr = [], [], []
        for level, f in enumerate((p3, p4, c5)):
            c, b = self.cls_branch(f), self.box_branch(f)
            cls.append(flat(self.cls_out(c)))
            box.append(F.softplus(flat(self.box_out(b)) * self.level_scale[level]) * strides[level])
            ctr.append(flat(self.ctr_out(b)))
        return torch.cat(cls, 1), torch.cat(box, 1), torch.cat(ctr, 1).squeeze(2)


def giou_loss(p, t, eps=1e-7):
    w = (torch.min(p[..., 2], t[..., 2]) - torch.max(p[..., 0], t[..., 0])).clamp(min=0)
    h = (torch.min(p[..., 3], t[..., 3]) - torch.max(p[..., 1], t[..., 1])).clamp(min=0)
    inter = w * h
    union = (p[..., 2] - p[..., 0]) * (p[..., 3] - p[..., 1]) + (t[..., 2] - t[..., 0]) * (t[..., 3] - t[..., 1]) - inter
    hull = (torch.max(p[..., 2], t[..., 2]) - torch.min(p[..., 0], t[..., 0])) * (torch.max(p[..., 3], t[..., 3]) - torch.min(p[..., 1], t[..., 1]))
    return 1 - (inter / (union + eps) - (hull - union) / (hull + eps))


t = lambda name: torch.from_numpy(a[name])
images, cls_t, box_t, ctr_t, pos, points = t("images"), t("cls"), t("box"), t("centerness"), t("positive"), t("points")
num_pos = max(1.0, float(pos.sum()))
model = Detector()
opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
model.train()


def step():
    opt.zero_grad()
    cls, dist, ctr = model(images)
    p = torch.sigmoid(cls)
    ce = F.binary_cross_entropy_with_logits(cls, cls_t, reduction="none")
    pt = p * cls_t + (1 - p) * (1 - cls_t)
    focal = (ce * (1 - pt) ** 2 * (0.25 * cls_t + 0.75 * (1 - cls_t))).sum() / num_pos
    px, py = points[:, 0], points[:, 1]
    boxes = torch.stack([px - dist[..., 0], py - dist[..., 1], px + dist[..., 2], py + dist[..., 3]], -1)
    box = (giou_loss(boxes, box_t) * ctr_t).sum() / ctr_t.sum().clamp(min=1e-6)
    centerness = (F.binary_cross_entropy_with_logits(ctr, ctr_t, reduction="none") * pos).sum() / num_pos
    (focal + box + centerness).backward()
    opt.step()


ms = time_ms(step, repeats, 1)
report({"torch detector step": ms}, memory={"torch detector step": peak_rss_mib()})
