// Coordinate check (mup's coord_check): train models of several widths for a
// few steps on one fixed batch each and record, at every step, the mean
// |coordinate| of every layer's output. In a correct µP model these curves are
// flat in width; in SP (with an lr large enough to move the features) they
// grow, because an update of the same size per entry moves a wider layer's
// output further. The slope of log mean|x| against log width measures it.
import { Rng, abs, detach, mean, noGrad, plot, scope } from '../../index.js';
type LineSeries = plot.LineSeries;
import { type Parametrization, type Task } from './models.js';
import { optimizerFor, type OptimizerKind } from './optim.js';
import { panelGrid } from './plots.js';

export interface CoordCheckOptions {
  widths: number[];
  /** Forward passes recorded; step 0 is the init, step t follows t updates. */
  steps: number;
  seeds: number;
  parametrization: Parametrization;
  optimizer: OptimizerKind;
  lr: number;
  /** Called after each (seed, width) run. */
  onRun?: (done: number, total: number) => void;
}

export interface CoordRecord {
  width: number;
  seed: number;
  step: number;
  layer: string;
  /** Mean |coordinate| of the layer's output. */
  meanAbs: number;
}

export function coordCheck(task: Task, o: CoordCheckOptions): CoordRecord[] {
  if (o.widths.length < 2 || o.widths.some((w) => !(Number.isInteger(w) && w > 0))) throw new Error(`coordCheck: need at least two positive integer widths, got ${o.widths}`);
  if (!(Number.isInteger(o.steps) && o.steps >= 1) || !(Number.isInteger(o.seeds) && o.seeds >= 1)) throw new Error(`coordCheck: steps and seeds must be positive integers, got ${o.steps}, ${o.seeds}`);
  const records: CoordRecord[] = [];
  let done = 0;
  for (let seed = 0; seed < o.seeds; seed++) {
    for (const width of o.widths) {
      const model = task.build(width, o.parametrization, new Rng(7919 * seed + 1));
      const opt = optimizerFor(o.parametrization, o.optimizer, model.parameters(), { lr: o.lr });
      // One batch per seed, the same for every width and step: only the width changes between curves.
      const batch = task.trainBatch(new Rng(seed));
      for (let step = 0; step < o.steps; step++) {
        scope(() => {
          opt.zeroGrad();
          const out = model.forward(batch.input, (layer, t) => {
            const meanAbs = noGrad(() => mean(abs(detach(t))).item());
            records.push({ width, seed, step, layer, meanAbs });
          });
          // The last recorded forward needs no update after it.
          if (step < o.steps - 1) {
            task.loss(out, batch.target).backward();
            opt.step();
          }
        });
      }
      batch.input.dispose(); batch.target.dispose();
      opt.dispose();
      model.dispose();
      o.onRun?.(++done, o.seeds * o.widths.length);
    }
  }
  return records;
}

/** Per layer and step: widths and the seed-averaged mean |coordinate| at each. */
export function coordCurves(records: CoordRecord[]): Map<string, Map<number, { widths: number[]; values: number[] }>> {
  const sums = new Map<string, Map<number, Map<number, number[]>>>();
  for (const r of records) {
    if (!sums.has(r.layer)) sums.set(r.layer, new Map());
    const bySteps = sums.get(r.layer)!;
    if (!bySteps.has(r.step)) bySteps.set(r.step, new Map());
    const byWidth = bySteps.get(r.step)!;
    if (!byWidth.has(r.width)) byWidth.set(r.width, []);
    byWidth.get(r.width)!.push(r.meanAbs);
  }
  const out = new Map<string, Map<number, { widths: number[]; values: number[] }>>();
  for (const [layer, bySteps] of sums) {
    const m = new Map<number, { widths: number[]; values: number[] }>();
    for (const [step, byWidth] of bySteps) {
      const widths = [...byWidth.keys()].sort((a, b) => a - b);
      m.set(step, { widths, values: widths.map((w) => { const v = byWidth.get(w)!; return v.reduce((a, b) => a + b, 0) / v.length; }) });
    }
    out.set(layer, m);
  }
  return out;
}

/** Least-squares slope of log y on log x over the points where y is positive and finite; NaN with fewer than two. */
export function logLogSlope(x: number[], y: number[]): number {
  const pts = x.map((xi, i) => [Math.log(xi), Math.log(y[i])]).filter(([, ly]) => Number.isFinite(ly));
  if (pts.length < 2) return NaN;
  const mx = pts.reduce((a, [u]) => a + u, 0) / pts.length, my = pts.reduce((a, [, v]) => a + v, 0) / pts.length;
  let sxy = 0, sxx = 0;
  for (const [u, v] of pts) { sxy += (u - mx) * (v - my); sxx += (u - mx) ** 2; }
  return sxy / sxx;
}

export interface CoordSlope { layer: string; step: number; slope: number }

/** The log-log slope of every layer's curve at every step (0: flat in width, 1: grows like width). */
export function coordSlopes(records: CoordRecord[]): CoordSlope[] {
  const out: CoordSlope[] = [];
  for (const [layer, bySteps] of coordCurves(records)) {
    for (const [step, c] of bySteps) out.push({ layer, step, slope: logLogSlope(c.widths, c.values) });
  }
  return out;
}

/** One panel per layer: mean |coordinate| against width (both log), one line per step. */
export function coordCheckSvg(records: CoordRecord[], title: string): string {
  const panels = [...coordCurves(records)].map(([layer, bySteps]) => ({
    series: [...bySteps].sort(([a], [b]) => a - b).map(([step, c]): LineSeries => ({ name: `step ${step}`, x: c.widths, y: c.values })),
    options: { title: layer, xLabel: 'width', yLabel: 'mean |x|', logX: true, logY: true },
  }));
  return panelGrid(panels, { title });
}
