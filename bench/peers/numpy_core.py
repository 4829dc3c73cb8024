"""numpy peers for the core bench cases (bench/cases/core.ts).
usage: numpy_core.py <case> <n> <repeats>
  matmul n          C = A @ B, all n x n float32 (BLAS sgemm)
  add|exp|gelu n    elementwise on n float32 (gelu = x/2 (1 + erf(x/sqrt2)) with scipy's erf)
  sumrows|sumcols n sum of an n x n float32 matrix over axis 0 | axis 1
Preallocated outputs (out=) as tessera writes into preallocated buffers. Prints one JSON line:
{"ms": {label: median milliseconds}} (and "skip" with a reason when it cannot run)."""
import json
import sys

import numpy as np

from signature_io import time_ms


case, n, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
label = f"numpy {np.__version__} ({sys.executable})"
rng = np.random.default_rng(0)

if case == "matmul":
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), np.float32)
    fn = lambda: np.matmul(a, b, out=c)
elif case in ("add", "exp", "gelu"):
    x, y = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
    out = np.empty(n, np.float32)
    if case == "add":
        fn = lambda: np.add(x, y, out=out)
    elif case == "exp":
        fn = lambda: np.exp(x, out=out)
    else:
        try:
            from scipy.special import erf
        except ImportError:
            print(json.dumps({"ms": {}, "skip": "scipy is not installed for " + sys.executable}))
            sys.exit(0)
        import scipy
        label = f"numpy {np.__version__} + scipy {scipy.__version__} erf ({sys.executable})"
        t = np.empty(n, np.float32)

        def fn():
            np.multiply(x, np.float32(0.7071067811865476), out=t)
            erf(t, out=t)
            np.add(t, np.float32(1), out=t)
            np.multiply(t, x, out=out)
            np.multiply(out, np.float32(0.5), out=out)
elif case in ("sumrows", "sumcols"):
    a = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty(n, np.float32)
    axis = 0 if case == "sumrows" else 1
    fn = lambda: np.sum(a, axis=axis, out=out)
else:
    raise SystemExit("unknown case " + case)

print(json.dumps({"ms": {label: time_ms(fn, repeats)}}))
