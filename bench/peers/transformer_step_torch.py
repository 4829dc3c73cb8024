"""Whole-step peer for the µP Transformer step of bench/cases/steps.ts: the same pre-LN causal
Transformer as Tessera's mup.TransformerLM (token + position embeddings; per block x + attn(LN(x)),
then + fc2(gelu(fc1(LN(x)))) with a 4x hidden layer; final LN; readout Linear), µP's 1/d_head
attention scale and readout multiplier, Adam with µP's per-group learning rates (hidden weights
lr / width multiplier), cross-entropy over every position.
usage: transformer_step_torch.py <exchange dir> torch <steps>
Reports the median ms of one step and this process's peak RSS."""
import numpy as np

from signature_io import peak_rss_mib, report, time_ms, torch_peer

folder, repeats, meta, a, torch = torch_peer()
nn, F = torch.nn, torch.nn.functional
torch.manual_seed(0)
vocab, L, width, depth, heads = meta["vocab"], meta["context"], meta["width"], meta["depth"], meta["heads"]
width_mult = width / meta["baseWidth"]
tokens = torch.from_numpy(a["input"].astype(np.int64))
target = torch.from_numpy(a["target"].astype(np.int64))
head_dim = width // heads
causal = torch.triu(torch.full((L, L), float("-inf")), 1)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.q, self.k, self.v, self.o = (nn.Linear(width, width) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

    def attn(self, x):
        b = x.shape[0]
        q, k, v = (p(x).reshape(b, L, heads, head_dim).transpose(1, 2) for p in (self.q, self.k, self.v))
        scores = q @ k.transpose(-1, -2) / head_dim + causal  # µP: 1 / d_head
        y = torch.softmax(scores, -1) @ v
        return self.o(y.transpose(1, 2).reshape(b, L, width))

    def forward(self, x):
        h = x + self.attn(self.ln1(x))
        return h + self.fc2(F.gelu(self.fc1(self.ln2(h))))


class TransformerLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, width), nn.Embedding(L, width)
        self.blocks = nn.ModuleList(Block() for _ in range(depth))
        self.ln_f = nn.LayerNorm(width)
        self.readout = nn.Linear(width, vocab)

    def forward(self, t):
        h = self.tok(t) + self.pos.weight[:L]
        for b in self.blocks:
            h = b(h)
        return self.readout(self.ln_f(h)) / width_mult  # µP readout multiplier


model = TransformerLM()
hidden = [p for n, p in model.named_parameters() if p.ndim == 2 and "blocks" in n]
others = [p for n, p in model.named_parameters() if not (p.ndim == 2 and "blocks" in n)]
opt = torch.optim.Adam([{"params": hidden, "lr": 1e-3 / width_mult}, {"params": others, "lr": 1e-3}])


def step():
    opt.zero_grad()
    F.cross_entropy(model(tokens).reshape(-1, vocab), target).backward()
    opt.step()


label = f"torch {torch.__version__} transformer step"
ms = time_ms(step, repeats, warmup=3)
report({label: ms}, memory={label: peak_rss_mib()})
