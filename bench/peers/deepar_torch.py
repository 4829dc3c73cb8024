"""DeepAR peer in plain PyTorch: the network of src/models/forecast (2-layer LSTM,
hidden 40, dropout 0.1 between layers, a linear head to Student-t's df, loc, scale
with GluonTS's maps), timed on (1) one training epoch of `batches` batches of
random [batch, steps, features] inputs with the masked Student-t NLL, gradient
clipping at 10 and Adam, and (2) ancestral sampling of `paths` paths for `items`
items over `horizon` steps after a context of `context` steps.
usage: deepar_torch.py <batches> <batch> <steps> <features> <items> <paths> <context> <horizon> <repeats>
       <sampling_warmup> <sampling_repeats>
Prints {"ms": {"torch epoch": ..., "torch sampling": ...}}."""
import json
import sys

import torch
import torch.nn.functional as F

from signature_io import threads, time_ms

batches, batch, steps, features, items, paths, context, horizon, repeats, sampling_warmup, sampling_repeats = map(
    int, sys.argv[1:12])
torch.set_num_threads(threads())  # OMP_NUM_THREADS: the bench runs torch peers on its thread count and on 1
torch.manual_seed(0)
H = 40
lstm = torch.nn.LSTM(features, H, num_layers=2, dropout=0.1, batch_first=True)
head = torch.nn.Linear(H, 3)
opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)
eps = torch.finfo(torch.float32).eps


def distribution(raw, scale):
    df = 2 + F.softplus(raw[..., 0])
    loc = raw[..., 1] * scale
    sc = F.softplus(raw[..., 2]).clamp_min(eps) * scale
    return torch.distributions.StudentT(df, loc, sc)


x = torch.randn(batch, steps, features)
y = torch.rand(batch, steps) + 0.5
mask = (torch.rand(batch, steps) > 0.05).float()
scale = torch.rand(batch, 1) + 0.5


def epoch():
    lstm.train()
    for _ in range(batches):
        opt.zero_grad()
        out, _ = lstm(x)
        lp = distribution(head(out), scale).log_prob(y)
        loss = -(lp * mask).sum() / mask.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(lstm.parameters()) + list(head.parameters()), 10.0)
        opt.step()


ctx = torch.randn(items, context, features)
step_features = torch.randn(items * paths, 1, features)


@torch.no_grad()
def sample():
    lstm.eval()
    _, (h, c) = lstm(ctx)
    h, c = h.repeat_interleave(paths, 1), c.repeat_interleave(paths, 1)
    s = torch.ones(items * paths, 1)
    draws = []
    for _ in range(horizon):
        inp = step_features.clone()
        inp[:, 0, 0] = s[:, 0]  # the previous draw fed back as the first lag
        out, (h, c) = lstm(inp, (h, c))
        d = distribution(head(out[:, 0]), s[:, 0].abs() + 1).sample()
        s = d.unsqueeze(1)
        draws.append(d)
    return torch.stack(draws, 1)


print(json.dumps({"ms": {"torch epoch": time_ms(epoch, repeats), "torch sampling": time_ms(sample, sampling_repeats, sampling_warmup)}}))
