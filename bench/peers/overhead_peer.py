"""Dispatch overhead peer for bench/cases/overhead.ts: the time per call of adding two 1x1 float32
arrays, the way a user writes it (a fresh result each call), over many calls.
usage: overhead_peer.py numpy|torch <calls>"""
import json
import sys
import time

import numpy as np

from signature_io import torch_threads

library, calls = sys.argv[1], int(sys.argv[2])
if library == "numpy":
    a, b = np.ones((1, 1), np.float32), np.ones((1, 1), np.float32)
    add, label = np.add, f"numpy {np.__version__} ({sys.executable})"
else:
    torch = torch_threads()
    a, b = torch.ones(1, 1), torch.ones(1, 1)
    add, label = torch.add, f"torch {torch.__version__}"
best = float("inf")
for _ in range(5):
    t = time.perf_counter()
    for _ in range(calls):
        add(a, b)
    best = min(best, (time.perf_counter() - t) * 1e3 / calls)
print(json.dumps({"ms": {label: best}}))
