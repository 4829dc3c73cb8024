// Runs fuzz cases [from, to) of a seed on every backend in this process and prints one JSON line per case:
// the outcome on each backend (an error message or the values). A crash (abort, segfault) ends the process;
// the parent (test/fuzz.test.ts) counts the cases it did not report. Usage: worker.js seed count from to backends...
import * as T from '../../src/index.js';
import { corpus, OPS, realize } from './corpus.js';

export type Outcome = { error: string } | { values: (number | string)[]; shape: number[]; dtype: string } | { other: string };

const [seed, count, from, to] = process.argv.slice(2, 6).map(Number);
const backends = process.argv.slice(6);
for (const b of backends) if (b === 'webgpu' || b === 'cuda') await T.initBackend(b);

const encode = (v: number) => (Number.isFinite(v) ? v : String(v));

for (const c of corpus(seed, count).slice(from, to)) {
  const outcomes: Record<string, Outcome> = {};
  for (const b of backends) {
    T.manualSeed(seed + c.id);
    let made: unknown[] = [];
    try {
      made = realize(c, b);
      const y = T.scope(() => OPS[c.op].call(...made));
      if (y instanceof T.Tensor) {
        const values = Array.from(await y.data(), encode);
        await y.backend.sync();
        outcomes[b] = { values, shape: [...y.shape], dtype: y.dtype };
        y.dispose();
      } else {
        outcomes[b] = { other: Array.isArray(y) ? `array of ${y.length}` : typeof y };
      }
    } catch (e) {
      outcomes[b] = { error: e instanceof Error ? `${e.constructor.name}: ${e.message}` : `non-Error ${String(e)}` };
      // A device error reported late must not be blamed on the next case.
      try { await T.getBackend().sync(); } catch { /* already reported above */ }
      for (const name of backends) { try { await T.zeros([1], { backend: name }).backend.sync(); } catch { /* idem */ } }
    }
    for (const m of made.flat()) if (m instanceof T.Tensor) m.dispose();
  }
  process.stdout.write(JSON.stringify({ id: c.id, op: c.op, outcomes }) + '\n');
}
process.exit(0);
