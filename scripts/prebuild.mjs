// Puts the compiled addon into prebuilds/<platform>-<arch>/ (the prebuildify layout that
// src/backend/cpu/addon.ts reads), so that an installed package needs no compiler. Runs before
// `npm pack` / `npm publish` (the prepack script), after a source build (`npm install` or
// `npm run build:native`):
//   tessera.node       cpu only; always shipped
//   tessera.cuda.node  CUDA linked in (static cudart); shipped when build/Release was built with CUDA,
//                      and then a cpu-only addon is compiled into build/cpu for tessera.node
// Fails (exit 1) when there is no addon to ship: a package without one would silently be slow.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'build', 'Release', 'tessera.node');
const out = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const require = createRequire(import.meta.url);

function fail(message) {
  console.error(`tessera prebuild: ${message}`);
  process.exit(1);
}

if (!existsSync(built)) fail(`${built} is missing; build it first (npm run build:native)`);
const info = require(built).info();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

if (info.cuda) {
  copyFileSync(built, join(out, 'tessera.cuda.node'));
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const parallel = String(Math.max(1, Math.min(8, availableParallelism())));
  console.log('tessera prebuild: compiling the cpu-only addon into build/cpu');
  for (const step of [
    ['configure', '--out', 'build/cpu', '--config', 'Release', '--CDTESSERA_CUDA=OFF'],
    ['build', '--out', 'build/cpu', '--config', 'Release', '--parallel', parallel],
  ]) {
    const r = spawnSync(process.execPath, [cmakeJs, ...step], { cwd: root, stdio: 'inherit', env: { ...process.env, npm_config_nodedir: '' } });
    if (r.status !== 0) fail(`cmake-js ${step[0]} for the cpu-only addon failed`);
  }
  copyFileSync(join(root, 'build', 'cpu', 'Release', 'tessera.node'), join(out, 'tessera.node'));
} else {
  copyFileSync(built, join(out, 'tessera.node'));
}
for (const file of ['tessera.node', ...(info.cuda ? ['tessera.cuda.node'] : [])]) {
  const probe = spawnSync(process.execPath, ['-p', `JSON.stringify(require(${JSON.stringify(join(out, file))}).info())`], { encoding: 'utf8' });
  if (probe.status !== 0) fail(`${join(out, file)} does not load: ${probe.stderr}`);
  console.log(`tessera prebuild: ${join('prebuilds', `${process.platform}-${process.arch}`, file)} ${probe.stdout.trim()}`);
}
