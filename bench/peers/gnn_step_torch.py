"""Whole-step peer for bench/cases/steps.ts: one full-batch training epoch of GCN or GAT on Cora in
PyTorch, the same model as Tessera's (src/models/gnn): tanh, dropout 0.5, Adam lr 0.01 with L2 weight
decay 5e-4, cross-entropy on the training nodes. GAT as DGL's GATConv (the layer Tessera's follows):
per head e_ij = LeakyReLU_0.2(a_dst . W h_i + a_src . W h_j) over the edges j -> i of A + I, softmax
over each node's incoming edges, sum of the weighted W h_j, plus bias; input features dropped too.
usage: gnn_step_torch.py <exchange dir> torch <steps>
Reports the median ms of one step and this process's peak RSS."""
import numpy as np

from signature_io import peak_rss_mib, report, time_ms, torch_peer

folder, repeats, meta, a, torch = torch_peer()
F = torch.nn.functional
torch.manual_seed(0)
n, f, classes, hidden, heads = meta["nodes"], meta["features"], meta["classes"], meta["hidden"], meta["heads"]


def csr_parts(prefix):
    rp = torch.from_numpy(a[prefix + "RowPtr"].astype(np.int64))
    rows = torch.repeat_interleave(torch.arange(len(rp) - 1), rp[1:] - rp[:-1])
    return rows, torch.from_numpy(a[prefix + "ColIdx"].astype(np.int64)), torch.from_numpy(a[prefix + "Values"])


adj_rows, adj_cols, adj_vals = csr_parts("adj")
adj = torch.sparse_coo_tensor(torch.stack([adj_rows, adj_cols]), adj_vals, (n, n)).coalesce()
feat_rows, feat_cols, feat_vals = csr_parts("feat")
feat_idx = torch.stack([feat_rows, feat_cols])
x = torch.sparse_coo_tensor(feat_idx, feat_vals, (n, f)).coalesce()
labels = torch.from_numpy(a["labels"].astype(np.int64))
train = torch.from_numpy(a["train"].astype(np.int64))


def glorot(rows, cols, gain=1.0):
    bound = gain * (6.0 / (rows + cols)) ** 0.5
    return torch.nn.Parameter(torch.empty(rows, cols).uniform_(-bound, bound))


class Gcn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w1, self.b1 = glorot(f, hidden), torch.nn.Parameter(torch.zeros(hidden))
        self.w2, self.b2 = glorot(hidden, classes), torch.nn.Parameter(torch.zeros(classes))

    def forward(self):
        h = torch.tanh(torch.sparse.mm(adj, torch.sparse.mm(x, self.w1)) + self.b1)
        h = F.dropout(h, 0.5, self.training)
        return torch.sparse.mm(adj, h @ self.w2) + self.b2


class GatConv(torch.nn.Module):
    def __init__(self, fin, fout, h):
        super().__init__()
        self.h, self.fout = h, fout
        self.w = glorot(fin, h * fout, 2 ** 0.5)
        self.attn_src = torch.nn.Parameter(glorot(h, fout, 2 ** 0.5).detach().reshape(1, h, fout))
        self.attn_dst = torch.nn.Parameter(glorot(h, fout, 2 ** 0.5).detach().reshape(1, h, fout))
        self.bias = torch.nn.Parameter(torch.zeros(h * fout))

    def forward(self, inp):
        proj = torch.sparse.mm(inp, self.w) if inp.is_sparse else inp @ self.w
        feat = proj.reshape(n, self.h, self.fout)
        el, er = (feat * self.attn_src).sum(-1), (feat * self.attn_dst).sum(-1)  # [n, H]
        src, dst = adj_cols, adj_rows  # row i of A + I lists the edges j -> i
        e = F.leaky_relu(er[dst] + el[src], 0.2)  # [nnz, H]
        peak = torch.full((n, self.h), -float("inf")).scatter_reduce(0, dst[:, None].expand_as(e), e, "amax")
        w = torch.exp(e - peak[dst])
        total = torch.zeros(n, self.h).index_add_(0, dst, w)
        att = w / total[dst]
        out = torch.zeros(n, self.h, self.fout).index_add_(0, dst, att[:, :, None] * feat[src])
        return out + self.bias.reshape(self.h, self.fout)


class Gat(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = GatConv(f, hidden, heads), GatConv(hidden * heads, classes, 1)

    def forward(self):
        xd = torch.sparse_coo_tensor(feat_idx, F.dropout(feat_vals, 0.5, self.training), (n, f))
        h = torch.tanh(self.conv1(xd)).reshape(n, hidden * heads)
        h = F.dropout(h, 0.5, self.training)
        return self.conv2(h).squeeze(1)


model = Gcn() if meta["model"] == "gcn" else Gat()
opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
model.train()


def step():
    opt.zero_grad()
    F.cross_entropy(model()[train], labels[train]).backward()
    opt.step()


label = f"torch {torch.__version__} {meta['model']} step"
ms = time_ms(step, repeats, warmup=3)
report({label: ms}, memory={label: peak_rss_mib()})
