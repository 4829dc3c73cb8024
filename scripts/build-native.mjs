// Builds the native addon (build/Release/tessera.node) with cmake-js, offline: package.json's
// "binary": {"napi_versions": [8]} makes cmake-js compile against node-api-headers instead of
// downloading Node's headers. Runs as the package's install script and as `npm run build:native`.
// A failed build is not fatal: the `reference` backend needs no native code, so this prints what
// failed and how to retry, then exits 0.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
const addon = join(root, 'build', 'Release', 'tessera.node');

function warn(what, detail) {
  const lines = [
    '',
    '================================================================',
    `tessera: the native addon was NOT built (${what}).`,
    ...(detail ? [detail] : []),
    'The `reference` backend still works; the `cpu` (and `cuda`) backends need the addon.',
    'To rebuild after fixing the cause (needs cmake >= 3.15 and a C++17 compiler):',
    '    npm run build:native',
    '================================================================',
    '',
  ];
  console.warn(lines.join('\n'));
  process.exit(0);
}

if (!existsSync(cmakeJs)) warn('cmake-js is not installed', `looked for ${cmakeJs}; run \`npm install\` first`);

const parallel = String(Math.max(1, Math.min(8, (await import('node:os')).availableParallelism?.() ?? 2)));
const result = spawnSync(process.execPath, [cmakeJs, 'compile', '--config', 'Release', '--parallel', parallel], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, npm_config_nodedir: '' },
});
if (result.error) warn('cmake-js could not be started', String(result.error));
if (result.status !== 0) warn(`cmake-js exited with status ${result.status}`, 'see the messages above');
if (!existsSync(addon)) warn('the build finished without producing the addon', `expected ${addon}`);
console.log(`tessera: built ${addon}`);
