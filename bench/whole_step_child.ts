// The Tessera side of a whole-step case (bench/whole_step.ts), in a process of its own so that its
// peak RSS is the model's: node dist/bench/whole_step_child.js <case module path> <step name>
// Prints one JSON line: {ms, peakRssMiB, exchangeDir} or {skip}.
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
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
    const ex = new Exchange(session.peer.meta, session.peer.arrays);
    session.dispose();
    report = { ms, peakRssMiB, exchangeDir: ex.dir };
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await childMain(process.argv[2], process.argv[3]);
process.exit(0);
