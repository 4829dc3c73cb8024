#!/usr/bin/env bash
# CI: the package as users get it works with no compiler. Packs the package (the prepack script puts
# the built addon into prebuilds/), installs the tarball into a fresh app (dependencies from the npm cache
# that `npm ci` filled where it can) with a PATH holding only node, npm and sh (no cmake, g++, cc or nvcc),
# then checks that the library runs on the cpu backend at once, without a warning, from ESM, CommonJS
# and the `tessera` command, and that the tarball holds no tests or benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== npm pack"
# The prepack script (scripts/prebuild.mjs) is run here and the other scripts skipped: prepare would
# compile the TypeScript that `npm test` has just compiled.
node scripts/prebuild.mjs
npm pack --ignore-scripts --silent --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/tessera-tensor-*.tgz)
tar tzf "$tarball" > "$work/contents"
if grep -E '^package/dist/(test|bench|examples)/' "$work/contents"; then
  echo "packed-install: the tarball holds tests, benchmarks or examples" >&2; exit 1
fi
grep -q '^package/prebuilds/linux-x64/tessera.node$' "$work/contents" ||
  { echo "packed-install: the tarball has no prebuilds/linux-x64/tessera.node" >&2; exit 1; }
echo "packed-install: $(wc -l < "$work/contents") files, $(du -h "$tarball" | cut -f1)"

# A PATH with node, npm and the shell npm runs scripts with, and nothing else.
mkdir "$work/bin" "$work/app"
ln -s "$(command -v node)" "$work/bin/node"
ln -s "$(command -v npm)" "$work/bin/npm"
ln -s "$(command -v npx)" "$work/bin/npx"
ln -s "$(command -v sh)" "$work/bin/sh"
nocc() { PATH="$work/bin" "$@"; }
for tool in cmake g++ c++ cc gcc nvcc make; do
  if nocc sh -c "command -v $tool" >/dev/null; then echo "packed-install: $tool is still on PATH" >&2; exit 1; fi
done

cd "$work/app"
echo '{ "name": "app", "version": "1.0.0", "private": true, "type": "module" }' > package.json
echo "== npm install (from the npm cache where it can, no compilers on PATH)"
nocc npm install --prefer-offline --no-audit --no-fund "$tarball"

check='
  const name = T.getBackend().name;
  const y = T.matmul(T.tensor([[1, 2], [3, 4]]), T.tensor([[5], [6]]));
  const got = Array.from(y.dataSync());
  if (name !== "cpu" || got.join() !== "17,39") { console.error("got", name, got); process.exit(1); }
  console.log("backend", name, "matmul", got.join());'
nocc node --input-type=module -e "import * as T from 'tessera-tensor'; $check" 2> "$work/esm.err"
nocc node -e "const T = require('tessera-tensor'); $check" 2> "$work/cjs.err"
for f in esm cjs; do
  if [ -s "$work/$f.err" ]; then echo "packed-install: $f printed on stderr:" >&2; cat "$work/$f.err" >&2; exit 1; fi
done
nocc npx --offline tessera info
echo "packed-install: ok"
