// What a user meets in the first hour, checked in child processes where a fresh process matters:
// the warning when the native addon cannot load (and TESSERA_QUIET), a quiet WebGPU start-up,
// require() from CommonJS, the data root (--data, TESSERA_DATA), the message when a dataset is missing,
// and what console.log of a tensor shows.
// The packed tarball installed without compilers is checked by .ci/packed-install.sh.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataDir, datasetDir, setDataDir } from '../src/data/paths.js';
import { runCli } from '../src/cli/commands.js';
import '../src/cli/gde.js';
import { inspect } from 'node:util';
import * as T from '../src/index.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const index = join(packageRoot, 'dist', 'src', 'index.js');

/** Runs a fresh node in the package folder with `env` added; its exit status, stdout and stderr. */
function node(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, args, { cwd: packageRoot, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const firstUse = `import * as T from ${JSON.stringify(index)}; T.tensor([1, 2]).add(T.tensor([3, 4])); T.tensor([5]); console.log(T.getBackend().name);`;

const fallback = suite('install: the slow fallback is never silent');

fallback('without a loadable addon the first use prints one warning that says why and how to fix it', () => {
  const r = node(['--input-type=module', '-e', firstUse], { TESSERA_ADDON: '/nonexistent/tessera.node', TESSERA_QUIET: '' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'reference');
  assert.is(r.stderr.match(/WARNING/g)?.length, 1, r.stderr);
  for (const part of ["'reference' backend", '/nonexistent/tessera.node', 'TESSERA_BUILD_FROM_SOURCE=1 npm rebuild tessera-tensor', 'TESSERA_QUIET=1']) {
    assert.ok(r.stderr.includes(part), `warning lacks "${part}": ${r.stderr}`);
  }
});

fallback('TESSERA_QUIET=1 silences it', () => {
  const r = node(['--input-type=module', '-e', firstUse], { TESSERA_ADDON: '/nonexistent/tessera.node', TESSERA_QUIET: '1' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'reference');
  assert.is(r.stderr, '');
});

fallback("Dawn's start-up notices (lavapipe's lowered limits) are kept off stderr", () => {
  const start = `import * as T from ${JSON.stringify(index)}; ` +
    `try { await T.setBackend('webgpu'); console.log('webgpu'); } catch (e) { console.log('unavailable: ' + e.message); } process.exit(0);`;
  const r = node(['--input-type=module', '-e', start]);
  assert.is(r.status, 0, r.stderr);
  if (r.stdout.trim() !== 'webgpu') {
    assert.is.not(process.env.CI, 'true', `CI needs webgpu: ${r.stdout}`);
    console.log(`  (webgpu start-up not checked: ${r.stdout.trim()})`);
    return;
  }
  assert.not.match(r.stderr, /artificially reduced/);
});

fallback.run();

const cjs = suite('install: CommonJS');

cjs("require('tessera-tensor') (the exports' require entry) gives the same API as import", () => {
  const r = node(['-e', `const T = require('tessera-tensor'); console.log(typeof T.tensor, typeof T.nn.Linear, T.tensor([1, 2, 3]).sum().item())`]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'function function 6');
});

cjs.run();

const data = suite('install: the data root');

data('setDataDir (--data) wins over TESSERA_DATA; a missing dataset names the folder, the flag and the variable', () => {
  const empty = mkdtempSync(join(tmpdir(), 'tessera-data-'));
  try {
    setDataDir(empty);
    assert.is(dataDir(), empty);
    try { datasetDir('mnist'); assert.unreachable('mnist cannot be in an empty folder'); } catch (e) {
      const message = (e as Error).message;
      for (const part of [join(empty, 'mnist'), '--data', 'TESSERA_DATA', 't10k-images-idx3-ubyte']) {
        assert.ok(message.includes(part), `message lacks "${part}": ${message}`);
      }
    }
  } finally {
    setDataDir(undefined);
    rmSync(empty, { recursive: true, force: true });
  }
});

data('tessera gde --data <empty folder> fails saying which dataset is missing', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'tessera-data-'));
  let err = '';
  try {
    const code = await runCli(['gde', '--task', 'mnist-mlp', '--data', empty], { stdout: () => {}, stderr: (t) => { err += t; } });
    assert.is(code, 1, err);
    assert.ok(err.includes(`dataset 'mnist' not found: ${join(empty, 'mnist')}`), err);
  } finally {
    setDataDir(undefined);
    rmSync(empty, { recursive: true, force: true });
  }
});

data.run();

const printing = suite('install: printing a tensor');

printing('console.log shows the description and aligned rows, not the fields', () => {
  const t = T.tensor([[1, 2], [3, 40]]);
  const on = T.getBackend().name;
  assert.is(t.toString(), `Tensor(float32[2, 2] on ${on})\n[[ 1,  2],\n [ 3, 40]]`);
  assert.is(inspect(t), t.toString());
  assert.is(T.tensor([0.5, 1 / 3, -2]).toString(), `Tensor(float32[3] on ${on})\n[    0.5, 0.33333,      -2]`);
  assert.is(T.arange(4).reshape([2, 1, 2]).toString().split('\n').slice(1).join('\n'), '[[[0, 1]],\n\n [[2, 3]]]');
  assert.is(T.tensor([7], { requiresGrad: true }).toString(), `Tensor(float32[1] on ${on}, requiresGrad)\n[7]`);
  const gone = T.tensor([1, 2]);
  gone.dispose();
  assert.is(gone.toString(), 'Tensor(float32[2] on (disposed))');
});

printing('past 1000 elements only the first and last 3 of each axis print', () => {
  const on = T.getBackend().name;
  assert.is(T.arange(0, 2000, 1, { dtype: 'int32' }).toString(), `Tensor(int32[2000] on ${on})\n[   0,    1,    2, ..., 1997, 1998, 1999]`);
  const rows = T.arange(40 * 40).reshape([40, 40]).toString().split('\n');
  assert.is(rows.length, 1 + 7);
  assert.is(rows[1], '[[   0,    1,    2, ...,   37,   38,   39],');
  assert.is(rows[4], ' ...,');
  assert.is(rows[7], ' [1560, 1561, 1562, ..., 1597, 1598, 1599]]');
});

printing.run();
