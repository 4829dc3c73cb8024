// Whole training steps against the same model in PyTorch: time per step and peak memory (RSS) of
// each side, each measured in a fresh process that runs only that model (the bench's own process
// holds every other case's buffers, so its RSS would say nothing).
//
// Adding a whole-step case (a model's author does this):
//  1. In a module under bench/cases/, export `steps: WholeStepDef[]` and
//     `cases = steps.map((d) => wholeStepCase(d, import.meta.url))`, and list the module in
//     bench/run.ts's caseFiles.
//  2. def.setup() builds the model and one batch on Tessera (public API) and returns step() (forward,
//     backward, optimizer update), dispose(), and `peer`: the sizes (meta) and the arrays the torch
//     script needs to build the same model on the same data (or a string saying why it is skipped,
//     such as absent data).
//  3. bench/peers/<def.torchScript>: `folder, repeats, meta, arrays, torch = torch_peer()` (from
//     signature_io), build the same model, time one step with time_ms(step, repeats, warmup), and
//     report({label: ms}, memory={label: peak_rss_mib()}).
// The parent runs the Tessera side as `node dist/bench/whole_step_child.js <module> <name>` and the torch
// script through runPythonPeerOutput (2 threads each, torch.set_num_threads and OMP_NUM_THREADS).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchCase, type CaseResult, quick, runPythonPeerOutput } from './case.js';
import { pythonTorch } from './peers/signature_peers.js';

export interface StepSession {
  /** One whole training step: forward, backward, optimizer update. */
  step(): void;
  dispose(): void;
  /** What the torch script gets: sizes and settings (meta) and the data and initial weights (arrays). */
  peer: { meta: object; arrays: Record<string, { data: Float32Array | Int32Array; shape: number[] }> };
}

export interface WholeStepDef {
  name: string;
  kernel: string;
  /** bench/peers/<torchScript>, run as `<script> <exchange dir> torch <steps>`. */
  torchScript: string;
  /** Timed steps (median); under --quick the case times 2. */
  steps: number;
  /** Builds the Tessera side, or returns why the case cannot run here. */
  setup(): Promise<StepSession | string>;
}

export interface ChildReport { ms?: number; peakRssMiB?: number; exchangeDir?: string; skip?: string }

const here = dirname(fileURLToPath(import.meta.url));

/** The BenchCase running `def` (exported from the module at `moduleUrl`) in child processes. */
export function wholeStepCase(def: WholeStepDef, moduleUrl: string): BenchCase {
  return {
    name: def.name, kernel: def.kernel,
    run: async (): Promise<CaseResult> => {
      const child = spawnSync(process.execPath, [join(here, 'whole_step_child.js'), fileURLToPath(moduleUrl), def.name], {
        encoding: 'utf8', maxBuffer: 1 << 24, timeout: 1_200_000, stdio: ['ignore', 'pipe', 'inherit'],
      });
      const last = (child.stdout ?? '').trim().split('\n').pop() ?? '';
      if (child.status !== 0 || !last.startsWith('{')) {
        console.warn(`  (${def.name}: the tessera side failed: ${child.error ?? `exit ${child.status}`})`);
        return { tesseraMs: NaN, peers: {} };
      }
      const mine = JSON.parse(last) as ChildReport;
      if (mine.skip) {
        console.log(`  (${def.name} skipped: ${mine.skip})`);
        return { tesseraMs: NaN, peers: {} };
      }
      const memory: Record<string, number> = { tessera: mine.peakRssMiB! };
      try {
        const torch = runPythonPeerOutput(pythonTorch, def.torchScript, [mine.exchangeDir!, 'torch', String(quick ? 2 : def.steps)], 'torch');
        Object.assign(memory, torch?.memoryMiB ?? {});
        console.log(`  peak RSS MiB: ${Object.entries(memory).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
        return { tesseraMs: mine.ms!, peers: torch?.ms ?? {}, memory };
      } finally {
        rmSync(mine.exchangeDir!, { recursive: true, force: true });
      }
    },
  };
}
