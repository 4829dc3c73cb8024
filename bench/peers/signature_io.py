"""Shared by the signature_*.py peers: reads the arrays a bench case wrote,
times a call the way the TypeScript side does, writes results back.

Exchange directory: meta.json ({"meta": {...}, "arrays": {name: {"dtype", "shape"}}})
and one raw little-endian <name>.bin per array. A peer prints one JSON line:
{"ms": {variant: median milliseconds}, "outputs": [names written back]}."""
import json
import os
import statistics
import sys
import time

import numpy as np


def threads():
    return int(os.environ.get("OMP_NUM_THREADS", "2"))


def load(folder):
    with open(os.path.join(folder, "meta.json")) as f:
        spec = json.load(f)
    arrays = {}
    for name, a in spec["arrays"].items():
        data = np.fromfile(os.path.join(folder, name + ".bin"), dtype=np.dtype(a["dtype"]))
        arrays[name] = data.reshape(a["shape"])
    return spec["meta"], arrays


def time_ms(fn, repeats, warmup=1):
    """Median wall time of fn() over `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def save(folder, name, array):
    np.ascontiguousarray(array, dtype=np.float32).tofile(os.path.join(folder, name + ".bin"))


def peak_rss_mib():
    """This process's own peak resident memory so far, in MiB: Linux's VmHWM, which exec resets. Not
    ru_maxrss: after fork + exec it still holds the parent's maximum, so every peer started by a large bench
    process read the same number."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(timings, outputs=(), memory=None):
    """timings: {variant: median ms}; outputs: the arrays saved for the bench to compare;
    memory: {variant: peak RSS MiB} (whole-step peers)."""
    result = {"ms": timings, "outputs": list(outputs)}
    if memory:
        result["memoryMiB"] = memory
    print(json.dumps(result))
    sys.stdout.flush()


def torch_peer():
    """Prelude of the torch-only peers, run as `<script> <exchange dir> torch <repeats>`:
    returns (folder, repeats, meta, arrays, torch), torch set to the bench's thread count."""
    folder, peer, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if peer != "torch":
        raise SystemExit("unknown peer " + peer)
    meta, arrays = load(folder)
    return folder, repeats, meta, arrays, torch_threads()


def torch_threads():
    import torch
    torch.set_num_threads(threads())
    return torch
