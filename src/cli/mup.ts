// `tessera mup coord-check` and `tessera mup transfer`: the µP coordinate check
// and the µTransfer learning-rate sweep (src/models/mup), writing JSON and SVG files.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { registerCommand, type CliIO, type ParsedArgs } from './commands.js';
import { Progress } from './progress.js';
// The Node entry point: tensor methods, autograd hooks and the native backends, not just the registry.
import { listBackends, setBackend } from '../index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { setDataDir } from '../data/paths.js';
import {
  coordCheck, coordCheckSvg, coordSlopes, summarizeTransfer, taskFor, transferSvg, transferSweep,
  type ModelKind, type OptimizerKind, type Parametrization, type TransferSummary,
} from '../models/mup/index.js';

/** "64,128,256" -> [64, 128, 256]. */
export function parseWidths(text: string): number[] {
  const widths = text.split(',').map((s) => Number(s.trim()));
  if (widths.length < 2 || widths.some((w) => !(Number.isInteger(w) && w > 0))) {
    throw new Error(`--widths needs at least two positive integers separated by commas, got '${text}'`);
  }
  return [...new Set(widths)].sort((a, b) => a - b);
}

const powerOfTwo = (token: string): number => {
  const m = /^2\^(-?\d+(?:\.\d+)?)$/.exec(token.trim());
  const v = m ? 2 ** Number(m[1]) : Number(token);
  if (!(v > 0) || !Number.isFinite(v)) throw new Error(`--lrs: '${token}' is not a positive number or 2^k`);
  return v;
};

/** "1e-3,2^-8" -> values; "2^-12..2^-4" -> every power of two from 2^-12 to 2^-4. */
export function parseLrs(text: string): number[] {
  const range = /^\s*2\^(-?\d+)\s*\.\.\s*2\^(-?\d+)\s*$/.exec(text);
  let lrs: number[];
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (b <= a) throw new Error(`--lrs: the range ${text} must go up`);
    lrs = Array.from({ length: b - a + 1 }, (_, i) => 2 ** (a + i));
  } else {
    lrs = text.split(',').map(powerOfTwo);
  }
  if (lrs.length < 2) throw new Error(`--lrs needs at least two learning rates, got '${text}'`);
  return [...new Set(lrs)].sort((x, y) => x - y);
}

function oneOf<T extends string>(flag: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new Error(`--${flag} must be one of ${allowed.join(', ')}, got '${String(value)}'`);
  return value as T;
}

/** The requested backend, or the first of cpu / reference that starts. */
async function useBackend(requested: string | undefined): Promise<string> {
  if (requested) { await setBackend(requested); return requested; }
  for (const name of ['cpu', 'reference']) {
    if (!listBackends().includes(name)) continue;
    try { await setBackend(name); return name; } catch { /* not built here: try the next */ }
  }
  throw new Error(`no synchronous backend available (known: ${listBackends().join(', ')})`);
}

const sharedFlags = {
  model: { type: 'string', describe: 'mlp (MNIST) or transformer (character LM on a generated grammar corpus)', default: 'mlp' },
  widths: { type: 'string', describe: 'comma-separated widths' },
  steps: { type: 'number', describe: 'coord-check: forward passes recorded (step 0 = init); transfer: training steps' },
  seeds: { type: 'number', describe: 'seeds per setting, averaged', default: 1 },
  optimizer: { type: 'string', describe: 'sgd, adam or adamw', default: 'adam' },
  lr: { type: 'number', describe: 'coord-check: learning rate' },
  lrs: { type: 'string', describe: "transfer: learning rates, e.g. '2^-12..2^-4' or '0.001,0.003'" },
  parametrization: { type: 'string', describe: 'mup, sp or both', default: 'both' },
  'base-width': { type: 'number', describe: 'width of the µP base model (default: the smallest width)' },
  'batch-size': { type: 'number', describe: 'batch size (default 128 for mlp, 16 sequences for transformer)' },
  depth: { type: 'number', describe: 'transformer layers', default: 2 },
  out: { type: 'string', describe: 'folder for the JSON and SVG files', default: 'mup-results' },
  backend: { type: 'string', describe: 'backend (default: cpu if built, else reference)' },
  data: { type: 'string', describe: 'folder holding mnist/ (for --model mlp); default $TESSERA_DATA, else shared/data next to the package' },
} as const;

interface Common {
  model: ModelKind;
  widths: number[];
  parametrizations: Parametrization[];
  optimizer: OptimizerKind;
  out: string;
  backend: string;
}

async function common(args: ParsedArgs): Promise<Common> {
  const f = args.flags;
  if (f.data !== undefined) setDataDir(String(f.data));
  if (f.widths === undefined) throw new Error('--widths is required');
  const p = oneOf('parametrization', f.parametrization, ['mup', 'sp', 'both'] as const);
  const out = String(f.out);
  mkdirSync(out, { recursive: true });
  return {
    model: oneOf('model', f.model, ['mlp', 'transformer'] as const),
    widths: parseWidths(String(f.widths)),
    parametrizations: p === 'both' ? ['sp', 'mup'] : [p],
    optimizer: oneOf('optimizer', f.optimizer, ['sgd', 'adam', 'adamw'] as const),
    out,
    backend: await useBackend(f.backend as string | undefined),
  };
}

/** Progress goes to the command's stderr as plain periodic lines. */
const progressStream = (io: CliIO) => ({ write: (text: string) => io.stderr(text) });

function task(args: ParsedArgs, c: Common) {
  const f = args.flags;
  return taskFor(c.model, {
    baseWidth: (f['base-width'] as number | undefined) ?? c.widths[0],
    batchSize: f['batch-size'] as number | undefined,
    depth: f.depth as number,
  });
}

async function runCoordCheck(args: ParsedArgs, io: CliIO): Promise<number> {
  const c = await common(args);
  const steps = (args.flags.steps as number | undefined) ?? 4, seeds = args.flags.seeds as number;
  const lr = args.flags.lr as number | undefined;
  if (lr === undefined) throw new Error('--lr is required for coord-check');
  const t = task(args, c);
  const report: Record<string, unknown> = { command: 'coord-check', model: c.model, backend: c.backend, widths: c.widths, steps, seeds, optimizer: c.optimizer, lr, files: [] };
  for (const parametrization of c.parametrizations) {
    const progress = new Progress({ label: `coord-check ${c.model} ${parametrization}`, total: seeds * c.widths.length, unit: 'run', stream: progressStream(io) });
    const records = coordCheck(t, { widths: c.widths, steps, seeds, parametrization, optimizer: c.optimizer, lr, onRun: (done) => progress.update(done) });
    progress.finish();
    const slopes = coordSlopes(records);
    const base = join(c.out, `coord-${c.model}-${parametrization}`);
    writeFileAtomic(`${base}.json`, JSON.stringify({ model: c.model, parametrization, optimizer: c.optimizer, lr, widths: c.widths, steps, seeds, slopes, records }, null, 1));
    writeFileAtomic(`${base}.svg`, coordCheckSvg(records, `${c.model} ${parametrization === 'mup' ? 'µP' : 'SP'} coordinate check (${c.optimizer}, lr ${lr})`));
    (report.files as string[]).push(`${base}.json`, `${base}.svg`);
    report[parametrization] = slopes;
    if (!args.json) {
      io.stdout(`${parametrization}: slope of log mean|x| against log width, per layer (steps 0..${steps - 1})\n`);
      for (const layer of [...new Set(slopes.map((s) => s.layer))]) {
        const row = slopes.filter((s) => s.layer === layer).sort((a, b) => a.step - b.step).map((s) => (Number.isNaN(s.slope) ? '   -  ' : s.slope.toFixed(2).padStart(6)));
        io.stdout(`  ${layer.padEnd(14)} ${row.join(' ')}\n`);
      }
    }
  }
  if (args.json) io.stdout(JSON.stringify(report) + '\n');
  else io.stdout(`wrote ${(report.files as string[]).join(', ')}\n`);
  return 0;
}

/** A human summary of a transfer sweep: the optimal lr per width and how far it moves. */
export function transferReport(summaries: TransferSummary[]): string {
  const lines: string[] = [];
  for (const s of summaries) {
    lines.push(`${s.parametrization === 'mup' ? 'µP' : 'SP'}: optimal lr per width`);
    for (const o of s.optimum) {
      lines.push(`  width ${String(o.width).padStart(5)}: lr 2^${Math.log2(o.bestLr).toFixed(1)} (${o.bestLr.toPrecision(3)}), train loss ${o.trainLoss.toFixed(4)}, val loss ${o.valLoss.toFixed(4)}`);
    }
    lines.push(`  optimum moves ${s.optimumSpreadSteps} grid step(s) (x${s.optimumSpreadRatio.toPrecision(3)}) across widths`);
    lines.push(`  at the transferred lr ${s.transferredLr.toPrecision(3)}: train loss ${s.transferredTrainLoss.map((v) => v.toFixed(4)).join(' → ')} (wider is better: ${s.widerIsBetter ? 'yes' : 'no'})`);
  }
  return lines.join('\n') + '\n';
}

async function runTransfer(args: ParsedArgs, io: CliIO): Promise<number> {
  const c = await common(args);
  const steps = (args.flags.steps as number | undefined) ?? 200, seeds = args.flags.seeds as number;
  if (args.flags.lrs === undefined) throw new Error('--lrs is required for transfer');
  const lrs = parseLrs(String(args.flags.lrs));
  const t = task(args, c);
  const progress = new Progress({ label: `transfer ${c.model}`, total: c.parametrizations.length * c.widths.length * lrs.length * seeds, unit: 'run', stream: progressStream(io) });
  const results = transferSweep(t, { widths: c.widths, lrs, parametrizations: c.parametrizations, optimizer: c.optimizer, steps, seeds, onRun: (_, done) => progress.update(done) });
  progress.finish();
  const summaries = summarizeTransfer(results);
  const base = join(c.out, `transfer-${c.model}`);
  writeFileAtomic(`${base}.json`, JSON.stringify({ model: c.model, optimizer: c.optimizer, steps, seeds, backend: c.backend, summaries, results }, null, 1));
  writeFileAtomic(`${base}.svg`, transferSvg(summaries, `${c.model}: training loss after ${steps} steps (${c.optimizer})`));
  if (args.json) io.stdout(JSON.stringify({ command: 'transfer', model: c.model, backend: c.backend, summaries, files: [`${base}.json`, `${base}.svg`] }) + '\n');
  else io.stdout(`${transferReport(summaries)}wrote ${base}.json, ${base}.svg\n`);
  return 0;
}

registerCommand('mup', {
  describe: 'µP: coordinate check (coord-check) and µTransfer learning-rate sweep (transfer)',
  usage: 'coord-check|transfer',
  flags: sharedFlags,
  async run(args, io) {
    const [sub, ...extra] = args.positionals;
    if (extra.length > 0 || (sub !== 'coord-check' && sub !== 'transfer')) {
      const message = `mup: expected 'coord-check' or 'transfer', got ${args.positionals.length ? `'${args.positionals.join(' ')}'` : 'nothing'}`;
      if (args.json) io.stdout(JSON.stringify({ error: message, exitCode: 2 }) + '\n');
      else io.stderr(`tessera: ${message}\n`);
      return 2;
    }
    return sub === 'coord-check' ? runCoordCheck(args, io) : runTransfer(args, io);
  },
});
