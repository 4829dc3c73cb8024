#!/usr/bin/env bash
# Packs what bench/device/gpu-session.sh needs besides the repository into
# .device/ (git-ignored), for a GPU machine that has no Node and no network:
#   .device/runtime.tar.xz: node (this machine's binary, Node 20 linux-x64,
#     linked only against glibc and libstdc++), the node_modules the test
#     suite loads at run time (no compilers, bundlers or other platforms'
#     Dawn builds), dist/ (the compiled suite) and build/Release/tessera.node
#     (built here with nvcc: sm_80, sm_90 and PTX).
# Run from the repository after `npm run build` and a CUDA build of the addon;
# then carry .device to the GPU machine (the device tool's `carry: [".device"]`).
set -euo pipefail
cd "$(dirname "$0")/../.."
node_bin="$(command -v node)"
[ -f build/Release/tessera.node ] || { echo "pack-runtime: build the addon first (npm run build:native)"; exit 1; }
[ -d dist/test ] || { echo "pack-runtime: build the TypeScript first (npm run build)"; exit 1; }
node -e "process.exit(require('./build/Release/tessera.node').info().cuda ? 0 : 1)" ||
  { echo "pack-runtime: build/Release/tessera.node was built without CUDA"; exit 1; }
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" .device
cp "$node_bin" "$stage/bin/node"
# node_modules may be a link to a shared copy: -h packs what it points to.
tar -C . -chf - \
  --exclude='node_modules/typescript' --exclude='node_modules/esbuild' --exclude='node_modules/@esbuild' \
  --exclude='node_modules/@types' --exclude='node_modules/onnxruntime-*' --exclude='node_modules/@tensorflow' \
  --exclude='node_modules/webgpu/dist/win32-*' --exclude='node_modules/webgpu/dist/darwin-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' \
  node_modules dist build/Release/tessera.node | tar -C "$stage" -xf -
tar -C "$stage" -cf - . | xz -T0 -6 > .device/runtime.tar.xz
ls -la .device/runtime.tar.xz
