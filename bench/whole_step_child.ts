// The Tessera side of a whole-step case (bench/whole_step.ts), in a process of its own so that its
// peak RSS is the model's: node dist/bench/whole_step_child.js <case module path> <step name>
// Prints one JSON line: {ms, peakRssMiB, exchangeDir} or {skip}.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { medianMs, quick } from './case.js';
import { Exchange } from './peers/signature_peers.js';
import type { ChildReport, WholeStepDef } from './whole_step.js';

/** Child side: set up, time the steps, hand the peer's data over, report ms and peak RSS. */
async function childMain(modulePath: string, name: string): Promise<void> {
  const mod = (await import(pathToFileURL(modulePath).href)) as { steps?: WholeStepDef[] };
  const def = mod.steps?.find((d) => d.name === name);
  if (!def) throw new Error(`whole_step: ${modulePath} exports no step named '${name}'`);
  const session = await def.setup();
  let report: ChildReport;
  if (typeof session === 'string') report = { skip: session };
  else {
    // Median of single steps after warm-up ones (the first step allocates optimizer state, compiles).
    const ms = medianMs(() => session.step(), quick ? 2 : def.steps, quick ? 1 : 3);
    const peakRssMiB = peakRssOfThisProcessMiB();
    const ex = new Exchange(session.peer.meta, session.peer.arrays);
    session.dispose();
    report = { ms, peakRssMiB, exchangeDir: ex.dir };
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await childMain(process.argv[2], process.argv[3]);
process.exit(0);

/** This process's own peak RSS: Linux's VmHWM (reset at exec). Not getrusage's maxRSS: a child started by
 *  fork + exec inherits the parent's maximum in it, so every child of a large bench process read the same number. */
function peakRssOfThisProcessMiB(): number {
  try {
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (kib) return Number(kib[1]) / 1024;
  } catch { /* not Linux: fall back */ }
  return process.resourceUsage().maxRSS / 1024;
}
