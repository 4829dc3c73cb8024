// `tessera bench --quick --json`: the harness end to end at tiny sizes. Checks the results file
// and the JSON on stdout agree, the machine description and limits, that every Python peer that
// is installed got a configuration with the OpenBLAS core it ran, that the JavaScript peers that
// are installed agree with Tessera, and that the scaling charts are written. No timing asserts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const s = suite('bench');
const runner = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'run.js');
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-test-'));
const hasPython = (python: string, module: string) => spawnSync(python, ['-c', `import ${module}`]).status === 0;

s.after(() => rmSync(dir, { recursive: true, force: true }));

s('--quick --json runs matmul and the scaling series and writes what it prints', () => {
  const envBefore = process.env.OPENBLAS_CORETYPE;
  const out = join(dir, 'quick.json');
  const r = spawnSync(process.execPath, [runner, '--quick', '--json', '--kernel', 'matmul,scaling', '--out', out], {
    encoding: 'utf8', maxBuffer: 1 << 26, timeout: 600_000,
  });
  assert.is(r.status, 0, r.stderr.slice(-2000));
  const printed = JSON.parse(r.stdout);
  assert.equal(printed, JSON.parse(readFileSync(out, 'utf8')));
  assert.is(process.env.OPENBLAS_CORETYPE, envBefore, 'the bench changes OpenBLAS settings only in peer processes');

  const m = printed.machine;
  for (const key of ['cpu', 'cores', 'commit', 'date', 'threads']) assert.ok(m[key] !== undefined && m[key] !== '', `machine.${key}`);
  assert.ok(m.quick);
  const l = printed.limits;
  assert.ok(l.fmaGflops[l.isa].oneThread > 0 && l.fmaGflops[l.isa].pool > 0, 'FMA peak measured');
  assert.ok(l.triadGBs.oneThread > 0 && l.triadGBs.pool > 0, 'triad bandwidth measured');

  const names = printed.cases.map((c: { name: string }) => c.name);
  assert.ok(names.includes('matmul 64x64x64'), names.join('; '));
  for (const c of printed.cases) {
    assert.ok(c.tesseraMs > 0, `${c.name}: tessera time`);
    if (c.flops) assert.ok(c.percentOfLimit > 0, `${c.name}: % of limit`);
  }
  const matmul = printed.cases.find((c: { name: string }) => c.name === 'matmul 64x64x64');

  // Python peers: each installed one has a configuration naming the OpenBLAS core it ran, chosen among
  // the settings tried, and its label in the case names that configuration.
  for (const [python, lib] of [['/usr/bin/python3', 'numpy'], ['python3', 'numpy'], ['/usr/bin/python3', 'torch']]) {
    if (!hasPython(python, lib)) { console.log(`  (${python} has no ${lib}: its configuration is not checked)`); continue; }
    const build = printed.pythonPeerBuilds.find((b: { python: string; library: string }) => b.python === python && b.library === lib);
    assert.ok(build, `a configuration for ${lib} under ${python}`);
    assert.ok(typeof build.core === 'string' && build.core.length > 0 && build.core !== 'unknown', `${python} ${lib}: OpenBLAS core`);
    assert.ok(build.candidates.some((c: { setting: string }) => c.setting === 'OPENBLAS_CORETYPE unset'));
    assert.ok(build.relErr < 1e-4);
    if (lib === 'numpy') {
      const named = Object.values(matmul.peerBuilds as Record<string, string>)
        .some((b) => b.startsWith(`numpy ${build.version} ${python},`) && b.includes(build.core) && b.includes(build.setting));
      assert.ok(named, `matmul names ${python}'s build: ${JSON.stringify(matmul.peerBuilds)}`);
    }
  }
  // JavaScript peers that are installed computed the same product.
  for (const [peer, check] of Object.entries(matmul.check ?? {})) assert.ok((check as number) < 1e-4, `${peer} agrees with tessera: ${check}`);

  const svgs = readdirSync(dir).filter((f) => f.endsWith('.svg'));
  assert.equal(svgs.length, 3, svgs.join(', '));
  for (const f of svgs) assert.match(readFileSync(join(dir, f), 'utf8'), '<svg');
  assert.ok(existsSync(out));
});

s('an unknown option is an error naming it', () => {
  const r = spawnSync(process.execPath, [runner, '--quik'], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /unknown option --quik/);
});

s.run();
