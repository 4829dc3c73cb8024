#!/usr/bin/env bash
# The whole GPU run of the CUDA and WebGPU backends in one go, on a machine
# with an NVIDIA GPU, the CUDA toolkit, cmake and Python + PyTorch, but no
# Node and no network. Run from the repository root with .device/ carried
# along (bench/device/pack-runtime.sh makes it, here):
#   OUT=/some/folder bench/device/gpu-session.sh
# Each step writes its log under $OUT and the script goes on after a failed
# step; $OUT/summary.txt lists every step with its exit status and seconds:
#   1. bench/device/run.sh: builds kernels/cuda for this GPU only, checks
#      every kernel against PyTorch in float64 and benchmarks every family
#      ($OUT/check_and_bench.log, $OUT/cuda_bench.json);
#   2. the uvu suite with the carried Node and addon: test/cuda.test.ts then
#      checks every kernel against the reference backend on the GPU
#      ($OUT/uvu.log);
#   3. the webgpu tests on the NVIDIA Vulkan driver instead of lavapipe
#      ($OUT/webgpu.log; skipped with a message without the driver's ICD file);
#   4. the NCCL path at world size 1 (bench/device/nccl_check.ts, $OUT/nccl.log):
#      libnccl from TESSERA_NCCL_LIBRARY, else PyTorch's wheel (nvidia.nccl), else
#      the system's libnccl.so.2.
# Environment: OUT (default /tmp/tessera-gpu-out), STEP_TIMEOUT (seconds per
# step, default 420), TESSERA_CUDA_ARCH (default: this GPU's, from nvidia-smi).
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-/tmp/tessera-gpu-out}"
mkdir -p "$out"
limit="${STEP_TIMEOUT:-420}"
summary="$out/summary.txt"
: > "$summary"

step() {  # step NAME COMMAND...: runs it with a time limit, logs to $out/NAME.log
  local name="$1" start rc
  shift
  start=$(date +%s)
  echo "== $name: $*"
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  rc=$?
  echo "$name: exit $rc, $(( $(date +%s) - start )) s" | tee -a "$summary"
  tail -n 5 "$out/$name.log"
}

nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv > "$out/gpu.txt" 2>&1
cat "$out/gpu.txt"
cc="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')"
export TESSERA_CUDA_ARCH="${TESSERA_CUDA_ARCH:-${cc:-90}-real}"
export JOBS="${JOBS:-$(nproc)}"

# 1. The C ABI through ctypes: no Node needed.
OUT="$out" step check_and_bench bench/device/run.sh

# The carried Node, node_modules, dist/ and addon (pack-runtime.sh).
runtime=/tmp/tessera-runtime
if [ -f .device/runtime.tar.xz ]; then
  rm -rf "$runtime" && mkdir -p "$runtime" && xz -dc .device/runtime.tar.xz | tar -C "$runtime" -xf -
  [ -e node_modules ] || ln -s "$runtime/node_modules" node_modules
  [ -d dist ] || cp -r "$runtime/dist" dist
  [ -f build/Release/tessera.node ] || { mkdir -p build/Release && cp "$runtime/build/Release/tessera.node" build/Release/; }
  export PATH="$runtime/bin:$PATH"
fi
if ! command -v node > /dev/null; then
  echo "uvu, webgpu: skipped, no Node (run bench/device/pack-runtime.sh here and carry .device)" | tee -a "$summary"
  exit 0
fi

# 2. The whole suite; the cuda backend is the default where a GPU is present.
step uvu node dist/test/run.js

# 3. WebGPU through Dawn on the NVIDIA Vulkan driver.
icd=""
for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$f" ] && icd="$f" && break
done
if [ -n "$icd" ]; then
  VK_ICD_FILENAMES="$icd" step webgpu node dist/test/run.js webgpu
else
  echo "webgpu: skipped, no NVIDIA Vulkan ICD file (nvidia_icd.json)" | tee -a "$summary"
fi

# 4. NCCL at world size 1: native/cuda/nccl.cc loads libnccl at run time.
if [ -z "${TESSERA_NCCL_LIBRARY:-}" ]; then
  nccl_lib="$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib", "libnccl.so.2"))' 2>/dev/null)"
  [ -n "$nccl_lib" ] && [ -f "$nccl_lib" ] && export TESSERA_NCCL_LIBRARY="$nccl_lib"
fi
step nccl node dist/bench/device/nccl_check.js
