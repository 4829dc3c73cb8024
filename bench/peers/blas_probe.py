"""Which BLAS kernel a Python peer runs, and how fast and how right it is, under the
environment it was started with (bench/peers/configure.ts starts it once per candidate
OPENBLAS_CORETYPE setting and keeps the fastest correct one).
usage: blas_probe.py numpy|torch <n> <repeats>
Times C = A @ B on n x n float32 (numpy.matmul or torch.mm at the bench's thread count),
checks it against the float64 product, and prints one JSON line:
{"library", "version", "python", "threads", "blas": {"name", "core", "config", "file", ...}, "ms", "relErr"}."""
import ctypes
import json
import sys

import numpy as np

from signature_io import threads, time_ms, torch_threads

library, n, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)

if library == "numpy":
    version = np.__version__
    c = np.empty((n, n), np.float32)
    ms = time_ms(lambda: np.matmul(a, b, out=c), repeats)
elif library == "torch":
    torch = torch_threads()
    version = torch.__version__
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    tc = torch.empty(n, n)
    ms = time_ms(lambda: torch.mm(ta, tb, out=tc), repeats)
    c = tc.numpy()
else:
    raise SystemExit("unknown library " + library)


def blas_in_use():
    """Asks the OpenBLAS loaded in this process for its run-time core and config string (numpy's
    show_config() only has the build-time string), and threadpoolctl for its view where installed."""
    files = sorted({line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line.lower() and "/" in line})
    found = {"name": "unknown", "files": files}
    for path in files:
        lib = ctypes.CDLL(path)
        for prefix in ("openblas_", "scipy_openblas_", "openblas64_"):
            for suffix in ("", "64_"):
                corename = getattr(lib, prefix + "get_corename" + suffix, None)
                config = getattr(lib, prefix + "get_config" + suffix, None)
                if corename and config:
                    corename.restype = config.restype = ctypes.c_char_p
                    found = {"name": "OpenBLAS", "core": corename().decode(), "config": config().decode(), "file": path}
                    break
            if "core" in found:
                break
    try:
        import threadpoolctl
        found["threadpoolctl"] = [lib for lib in threadpoolctl.threadpool_info() if lib.get("user_api") == "blas"]
    except ImportError:
        pass
    return found


expected = a.astype(np.float64) @ b.astype(np.float64)
rel_err = float(np.max(np.abs(c - expected)) / np.max(np.abs(expected)))
print(json.dumps({"library": library, "version": version, "python": sys.executable, "threads": threads(),
                  "blas": blas_in_use(), "ms": ms, "relErr": rel_err}))
