// Memory stays flat however a training loop is written: with T.scope, disposing by hand what it holds,
// disposing nothing, or returning tensors from a scope (and keeping one made in it) only to drop them. Each
// style runs a small GCN for a few hundred synchronous steps in a child process (test/soak-child.ts, with
// --expose-gc) and must end where it started: live typed-array bytes after a forced collection inside the loop,
// and live tensors once finalizers have run.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendsUnderTest } from './helpers.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'soak-child.js');
const s = suite('soak');
const hasCpu = (await backendsUnderTest()).includes('cpu');
const STEPS = 300;
// One step of this model allocates about 200 kB; a leak of even one dropped buffer per step shows well past this.
const SLACK_BYTES = 2 * 2 ** 20;

const described: Record<string, string> = {
  scope: 'scoped', manual: 'hand-disposing', neither: 'non-disposing', escaping: 'scope-escaping',
};
for (const style of ['scope', 'manual', 'neither', 'escaping']) {
  (hasCpu ? s : s.skip)(`a ${described[style]} training loop stays flat over ${STEPS} steps (cpu)`, () => {
    const r = spawnSync(process.execPath, ['--expose-gc', child, style, String(STEPS)], { encoding: 'utf8', timeout: 120_000 });
    assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const m = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const grown = m.bytesAfterLoop - m.bytesBefore;
    assert.ok(grown < SLACK_BYTES, `live typed-array bytes grew by ${(grown / 2 ** 20).toFixed(1)} MiB over ${STEPS} steps (${r.stdout})`);
    assert.ok(m.tensorsAfter <= m.tensorsBefore, `live tensors ${m.tensorsBefore} -> ${m.tensorsAfter} (${r.stdout})`);
  });
}

s.run();
