// Builds the native addon (build/Release/tessera.node) from source with cmake-js, offline: package.json's
// "binary": {"napi_versions": [8]} makes cmake-js compile against node-api-headers instead of
// downloading Node's headers. Runs as the package's install script and as `npm run build:native`.
//
// As the install script of an installed package it does nothing when the package's prebuilt addon
// (prebuilds/<platform>-<arch>/) loads, unless a source build is asked for:
// `TESSERA_BUILD_FROM_SOURCE=1 npm rebuild tessera-tensor` (npm_config_build_from_source, node-pre-gyp's
// `--build-from-source`, is honoured too; npm 11 warns that it does not know that flag).
//
// TESSERA_CUDA=on|off|auto (default auto) says whether the CUDA backend is compiled in; auto means
// "when nvidia-smi lists a GPU", so a machine with nvcc but no GPU does not spend minutes on it.
//
// A failed build is not fatal: the `reference` backend needs no native code, so this prints what
// failed and how to retry, then exits 0 (the library warns again on first use).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'tessera.node');
const asInstallScript = process.env.npm_lifecycle_event === 'install';
const fromSource = [process.env.TESSERA_BUILD_FROM_SOURCE, process.env.npm_config_build_from_source]
  .some((v) => /^(true|1)$/.test(v ?? ''));

function warn(what, detail) {
  console.warn([
    '',
    '================================================================',
    `tessera: the native addon was NOT built (${what}).`,
    ...(detail ? [detail] : []),
    'The `reference` backend still works; the `cpu` (and `cuda`) backends need the addon.',
    'To rebuild after fixing the cause (needs cmake >= 3.15 and a C++17 compiler):',
    '    TESSERA_BUILD_FROM_SOURCE=1 npm rebuild tessera-tensor   (where Tessera is a dependency)',
    '    npm run build:native                                     (in a clone of Tessera)',
    '================================================================',
    '',
  ].join('\n'));
  process.exit(0);
}

/** The prebuilt addon shipped in the package that loads here, if any. */
function loadablePrebuild() {
  const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  for (const file of ['tessera.node', 'tessera.cuda.node']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path)}).info()`], { stdio: 'ignore' });
    if (probe.status === 0) return path;
  }
  return undefined;
}

/** Whether to compile the CUDA backend in: TESSERA_CUDA=on|off|auto (auto: nvidia-smi lists a GPU). */
function wantCuda() {
  const setting = (process.env.TESSERA_CUDA ?? 'auto').toLowerCase();
  if (setting === 'on' || setting === 'off') return setting === 'on';
  if (setting !== 'auto') warn(`TESSERA_CUDA='${process.env.TESSERA_CUDA}' is not on, off or auto`);
  const smi = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' });
  return smi.status === 0 && /GPU \d/.test(smi.stdout);
}

// A clone (a git checkout) always builds: prebuilds/ left there by `npm pack` may be older than native/.
if (asInstallScript && !fromSource && !existsSync(join(root, '.git'))) {
  const prebuilt = loadablePrebuild();
  if (prebuilt) {
    console.log(`tessera: using the prebuilt native addon ${prebuilt}`);
    process.exit(0);
  }
}

// cmake-js wherever npm put it: in this package's node_modules (a clone) or hoisted next to it (a dependency).
let cmakeJs;
try {
  const pkgJson = createRequire(join(root, 'package.json')).resolve('cmake-js/package.json');
  const bin = JSON.parse(readFileSync(pkgJson, 'utf8')).bin;
  cmakeJs = join(dirname(pkgJson), typeof bin === 'string' ? bin : bin['cmake-js']);
} catch (e) {
  warn('cmake-js is not installed', `resolving it from ${root} failed: ${e.message.split('\n')[0]}`);
}

const cuda = wantCuda();
console.log(`tessera: building the native addon from source, CUDA ${cuda ? 'on' : 'off'} ` +
  `(TESSERA_CUDA=${process.env.TESSERA_CUDA ?? 'auto'})`);
const parallel = String(Math.max(1, Math.min(8, availableParallelism())));
// configure, then build: cmake-js's `compile` keeps an existing build folder's cache, so a changed
// TESSERA_CUDA would be ignored there.
for (const step of [
  ['configure', '--config', 'Release', `--CDTESSERA_CUDA=${cuda ? 'ON' : 'OFF'}`],
  ['build', '--config', 'Release', '--parallel', parallel],
]) {
  const result = spawnSync(process.execPath, [cmakeJs, ...step], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, npm_config_nodedir: '' },
  });
  if (result.error) warn(`cmake-js ${step[0]} could not be started`, String(result.error));
  if (result.status !== 0) warn(`cmake-js ${step[0]} exited with status ${result.status}`, 'see the messages above');
}
if (!existsSync(addon)) warn('the build finished without producing the addon', `expected ${addon}`);
console.log(`tessera: built ${addon}`);
