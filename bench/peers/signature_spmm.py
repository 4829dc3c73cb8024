"""SpMM peers: out = A @ X with A in CSR.
usage: signature_spmm.py <exchange dir> scipy|torch <repeats>
scipy: csr_matrix @ ndarray (single-threaded in scipy).
torch: torch.sparse.mm on a COO tensor and the CSR tensor's matmul; both are
timed and reported, the bench takes the faster."""
import sys

import numpy as np

from signature_io import load, report, save, time_ms, torch_threads

folder, peer, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
meta, a = load(folder)
rows, cols = meta["rows"], meta["cols"]
row_ptr, col_idx, values, x = a["rowPtr"], a["colIdx"], a["values"], a["x"]

if peer == "scipy":
    import scipy.sparse as sp
    A = sp.csr_matrix((values, col_idx, row_ptr), shape=(rows, cols))
    timings = {"scipy csr @ dense": time_ms(lambda: A @ x, repeats)}
    save(folder, "out_scipy", A @ x)
    report(timings, ["out_scipy"])
elif peer == "torch":
    torch = torch_threads()
    xt = torch.from_numpy(x)
    rp, ci = torch.from_numpy(row_ptr.astype(np.int64)), torch.from_numpy(col_idx.astype(np.int64))
    vt = torch.from_numpy(values)
    csr = torch.sparse_csr_tensor(rp, ci, vt, (rows, cols))
    row_of_edge = torch.repeat_interleave(torch.arange(rows), rp[1:] - rp[:-1])
    coo = torch.sparse_coo_tensor(torch.stack([row_of_edge, ci]), vt, (rows, cols)).coalesce()
    timings = {
        "torch.sparse.mm (coo)": time_ms(lambda: torch.sparse.mm(coo, xt), repeats),
        "torch csr @ dense": time_ms(lambda: csr @ xt, repeats),
    }
    save(folder, "out_torch", torch.sparse.mm(coo, xt).numpy())
    report(timings, ["out_torch"])
else:
    raise SystemExit("unknown peer " + peer)
