#!/usr/bin/env bash
# On a GPU machine with CUDA, cmake and Python + PyTorch (no Node needed):
# builds kernels/cuda (each family's kernels and C ABI, no N-API) as a shared
# library, then checks every kernel against PyTorch in float64 and
# benchmarks every kernel family against PyTorch (cuBLAS, cuSPARSE, cuDNN).
#   bench/device/run.sh [--build-only] [--skip-bench] [--only FAMILY ...]
# --build-only stops after the build (it needs nvcc, not a GPU). Without a
# GPU, `python3 bench/device/check_and_bench.py --dry-run` runs the Python half.
# Environment: TESSERA_CUDA_ARCH (default 90-real), JOBS (default 16),
# TESSERA_BENCH_BUILD (build folder), OUT (results JSON goes there if set).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${TESSERA_BENCH_BUILD:-/tmp/tessera-cuda-bench}"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
start=$(date +%s)
cmake -S "$here" -B "$build" "${generator[@]}" -DTESSERA_CUDA_ARCHITECTURES="${TESSERA_CUDA_ARCH:-90-real}" >/dev/null
cmake --build "$build" -j "${JOBS:-16}"
build_s=$(( $(date +%s) - start ))
echo "build: ${build_s} s"
if [ "${1:-}" = "--build-only" ]; then
  exit 0
fi
export PYTHONUNBUFFERED=1
exec python3 "$here/check_and_bench.py" --lib "$build/libtessera_cuda.so" --build-seconds "$build_s" "$@"
