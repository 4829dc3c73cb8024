"""GCN training peer: 200 epochs of full-batch GCN on Cora in PyTorch, the same
model and loop as bench/cases/gcn.ts (SR-GNN defaults: two graph convolutions
A (X W) + b, tanh, dropout 0.5 on the hidden layer, cross-entropy on the
training nodes, Adam lr 0.01 with L2 weight decay 5e-4 on every parameter).
usage: gcn_torch.py <exchange dir> torch <repeats>
Times two variants: features as a dense matrix (pygcn's layout) and as a
sparse COO matrix (the layout tessera uses for bag-of-words features).
Prints {"ms": {...}} and writes the test accuracy of the last timed run of
each variant (in that order) to accuracy_torch.bin."""
import numpy as np

from signature_io import report, save, time_ms, torch_peer

folder, repeats, meta, a, torch = torch_peer()
torch.manual_seed(0)
n, f, classes = meta["nodes"], meta["features"], meta["classes"]
hidden, epochs = meta["hidden"], meta["epochs"]


def coo(row_ptr, col_idx, values, shape):
    rp = torch.from_numpy(row_ptr.astype(np.int64))
    rows = torch.repeat_interleave(torch.arange(shape[0]), rp[1:] - rp[:-1])
    idx = torch.stack([rows, torch.from_numpy(col_idx.astype(np.int64))])
    return torch.sparse_coo_tensor(idx, torch.from_numpy(values), shape).coalesce()


adj = coo(a["adjRowPtr"], a["adjColIdx"], a["adjValues"], (n, n))
x_sparse = coo(a["featRowPtr"], a["featColIdx"], a["featValues"], (n, f))
x_dense = x_sparse.to_dense()
labels = torch.from_numpy(a["labels"].astype(np.int64))
train = torch.from_numpy(a["train"].astype(np.int64))
test = torch.from_numpy(a["test"].astype(np.int64))


def glorot(rows, cols):
    bound = (6.0 / (rows + cols)) ** 0.5
    return torch.empty(rows, cols).uniform_(-bound, bound).requires_grad_()


def train_once(x, project):
    w1, b1 = glorot(f, hidden), torch.zeros(hidden, requires_grad=True)
    w2, b2 = glorot(hidden, classes), torch.zeros(classes, requires_grad=True)
    params = [w1, b1, w2, b2]
    opt = torch.optim.Adam(params, lr=0.01, weight_decay=5e-4)

    def forward(training):
        h = torch.tanh(torch.sparse.mm(adj, project(x, w1)) + b1)
        h = torch.nn.functional.dropout(h, 0.5, training)
        return torch.sparse.mm(adj, h @ w2) + b2

    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(forward(True)[train], labels[train])
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred = forward(False).argmax(1)
    return float((pred[test] == labels[test]).float().mean())


variants = {
    "torch dense features": (x_dense, lambda x, w: x @ w),
    "torch sparse features": (x_sparse, lambda x, w: torch.sparse.mm(x, w)),
}
ms, accuracy = {}, {}
for name, (x, project) in variants.items():
    def run(name=name, x=x, project=project):
        accuracy[name] = train_once(x, project)
    # No warm-up run: one training is 200 epochs, and the first epoch pays the one-time costs either way.
    ms[name] = time_ms(run, repeats, warmup=0)
save(folder, "accuracy_torch", np.array(list(accuracy.values())))
report(ms, ["accuracy_torch"])
