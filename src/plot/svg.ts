// Standalone SVG charts (no browser, no dependencies): line plots with
// optional error bands and log axes, scatter plots with an optional y = x
// diagonal, loss curves. Non-finite points (and non-positive ones on a log
// axis) are left out and break the line there.

import { writeFileAtomic } from '../io/atomic.js';

export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Error band drawn behind the line from lower[i] to upper[i]; give both or neither. */
  lower?: ArrayLike<number>;
  upper?: ArrayLike<number>;
  color?: string;
  dashed?: boolean;
}

export interface ScatterSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Text drawn next to each point. */
  labels?: ArrayLike<string>;
  color?: string;
}

export interface PlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
  /** Default true when there is more than one series or any series is named. */
  legend?: boolean;
}

export interface ScatterOptions extends PlotOptions {
  /** Draw y = x; both axes then share one range. */
  diagonal?: boolean;
}

// matplotlib's tab10.
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const MARGIN = { left: 72, right: 24, top: 40, bottom: 52 };

export interface Axis {
  log: boolean;
  /** Domain ends, in data units. */
  min: number;
  max: number;
  ticks: number[];
  labels: string[];
}

/** A 1-2-5 step close to span / target. */
function niceStep(span: number, target: number): number {
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit < 1.5 ? 1 : unit < 3.5 ? 2 : unit < 7.5 ? 5 : 10) * power;
}

function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const magnitude = Math.abs(v);
  if (magnitude >= 1e5 || magnitude < 1e-4) {
    // As many mantissa digits as the step resolves: 2.5e6 for step 5e5, 4e6 for step 1e6.
    const digits = Math.max(0, Math.floor(Math.log10(magnitude) + 1e-9) - Math.floor(Math.log10(step) + 1e-9));
    return v.toExponential(digits).replace('e+', 'e');
  }
  return v.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

/**
 * Domain and ticks for the finite (and, on a log axis, positive) values.
 * Linear axes extend to whole 1-2-5 steps; log axes to whole decades.
 */
export function makeAxis(columns: ArrayLike<number>[], log: boolean, what: string): Axis {
  // Plain loops: spreading a long loss history into Math.min overflows the stack.
  let lo = Infinity, hi = -Infinity;
  for (const values of columns) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (Number.isFinite(v) && (!log || v > 0)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    }
  }
  if (lo > hi) throw new Error(`${what}: no ${log ? 'positive finite' : 'finite'} values to plot`);
  if (log) {
    let a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
    if (a === b) { a--; b++; }
    const stride = Math.ceil((b - a) / 8);
    const ticks: number[] = [];
    for (let k = a; k <= b; k += stride) ticks.push(10 ** k);
    const labels = ticks.map((t) => { const k = Math.round(Math.log10(t)); return k >= -3 && k <= 4 ? String(Number(t.toPrecision(1))) : `1e${k}`; });
    return { log, min: 10 ** a, max: 10 ** b, ticks, labels };
  }
  if (lo === hi) { const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1; lo -= pad; hi += pad; }
  const step = niceStep(hi - lo, 5);
  const min = Math.floor(lo / step) * step, max = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  // Integer multiples of step avoid drift from repeated addition.
  for (let k = Math.round(min / step); k <= Math.round(max / step); k++) ticks.push(k * step);
  return { log, min, max, ticks, labels: ticks.map((t) => formatTick(t, step)) };
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const fmt = (v: number) => String(Math.round(v * 100) / 100);

/** Maps data coordinates to pixels and renders the frame, ticks, labels and legend. */
class Canvas {
  readonly width: number;
  readonly height: number;
  readonly parts: string[] = [];

  constructor(readonly options: PlotOptions, readonly xAxis: Axis, readonly yAxis: Axis) {
    this.width = options.width ?? 640;
    this.height = options.height ?? 400;
  }

  private static fraction(axis: Axis, v: number): number {
    return axis.log
      ? (Math.log10(v) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min))
      : (v - axis.min) / (axis.max - axis.min);
  }

  px(x: number): number { return MARGIN.left + Canvas.fraction(this.xAxis, x) * (this.width - MARGIN.left - MARGIN.right); }
  py(y: number): number { return this.height - MARGIN.bottom - Canvas.fraction(this.yAxis, y) * (this.height - MARGIN.top - MARGIN.bottom); }

  /** Whether (x, y) can be drawn on these axes. */
  drawable(x: number, y: number): boolean {
    return Number.isFinite(x) && Number.isFinite(y) && (!this.xAxis.log || x > 0) && (!this.yAxis.log || y > 0);
  }

  frame(): void {
    const { width: w, height: h } = this;
    const left = MARGIN.left, right = w - MARGIN.right, top = MARGIN.top, bottom = h - MARGIN.bottom;
    this.parts.push(`<rect x="0" y="0" width="${w}" height="${h}" fill="white"/>`);
    this.parts.push(`<g class="grid" stroke="#e0e0e0" stroke-width="1">`);
    for (const t of this.xAxis.ticks) this.parts.push(`<line x1="${fmt(this.px(t))}" y1="${top}" x2="${fmt(this.px(t))}" y2="${bottom}"/>`);
    for (const t of this.yAxis.ticks) this.parts.push(`<line x1="${left}" y1="${fmt(this.py(t))}" x2="${right}" y2="${fmt(this.py(t))}"/>`);
    this.parts.push('</g>');
    this.parts.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="black"/>`);
    this.parts.push('<g class="ticks" font-family="sans-serif" font-size="11" fill="black">');
    this.xAxis.ticks.forEach((t, i) => this.parts.push(`<text class="tick-x" x="${fmt(this.px(t))}" y="${bottom + 16}" text-anchor="middle">${escapeXml(this.xAxis.labels[i])}</text>`));
    this.yAxis.ticks.forEach((t, i) => this.parts.push(`<text class="tick-y" x="${left - 6}" y="${fmt(this.py(t) + 4)}" text-anchor="end">${escapeXml(this.yAxis.labels[i])}</text>`));
    this.parts.push('</g>');
    const { title, xLabel, yLabel } = this.options;
    if (title) this.parts.push(`<text class="title" x="${fmt(w / 2)}" y="24" text-anchor="middle" font-family="sans-serif" font-size="15">${escapeXml(title)}</text>`);
    if (xLabel) this.parts.push(`<text class="x-label" x="${fmt((left + right) / 2)}" y="${h - 12}" text-anchor="middle" font-family="sans-serif" font-size="13">${escapeXml(xLabel)}</text>`);
    if (yLabel) {
      const cy = fmt((top + bottom) / 2);
      this.parts.push(`<text class="y-label" x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})" font-family="sans-serif" font-size="13">${escapeXml(yLabel)}</text>`);
    }
  }

  /** Index ranges [start, end) of consecutive points for which `ok` holds. */
  static runs(n: number, ok: (i: number) => boolean): [number, number][] {
    const out: [number, number][] = [];
    let start = -1;
    for (let i = 0; i <= n; i++) {
      const good = i < n && ok(i);
      if (good && start < 0) start = i;
      if (!good && start >= 0) { out.push([start, i]); start = -1; }
    }
    return out;
  }

  point(x: number, y: number): string { return `${fmt(this.px(x))},${fmt(this.py(y))}`; }

  /** Legend box in the top right corner, or top left (off a y = x diagonal). */
  legend(entries: { name: string; color: string; marker: 'line' | 'dot'; dashed?: boolean }[], corner: 'right' | 'left' = 'right'): void {
    const show = this.options.legend ?? (entries.length > 1 || entries.some((e) => e.name !== ''));
    if (!show || entries.length === 0) return;
    const longest = Math.max(...entries.map((e) => e.name.length));
    const boxWidth = 36 + 7 * longest, boxHeight = 8 + 18 * entries.length;
    const x0 = corner === 'right' ? this.width - MARGIN.right - boxWidth - 8 : MARGIN.left + 8, y0 = MARGIN.top + 8;
    this.parts.push(`<g class="legend" font-family="sans-serif" font-size="12">`);
    this.parts.push(`<rect x="${x0}" y="${y0}" width="${boxWidth}" height="${boxHeight}" fill="white" fill-opacity="0.85" stroke="#999"/>`);
    entries.forEach((e, i) => {
      const cy = y0 + 13 + 18 * i;
      this.parts.push(e.marker === 'line'
        ? `<line x1="${x0 + 6}" y1="${cy}" x2="${x0 + 26}" y2="${cy}" stroke="${e.color}" stroke-width="2"${e.dashed ? ' stroke-dasharray="6 4"' : ''}/>`
        : `<circle cx="${x0 + 16}" cy="${cy}" r="4" fill="${e.color}"/>`);
      this.parts.push(`<text x="${x0 + 32}" y="${cy + 4}">${escapeXml(e.name)}</text>`);
    });
    this.parts.push('</g>');
  }

  render(): string {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}">\n${this.parts.join('\n')}\n</svg>\n`;
  }
}

function checkSeries(fn: string, s: { name: string; x: ArrayLike<number>; y: ArrayLike<number> }, extra: [string, ArrayLike<unknown> | undefined][]): void {
  if (s.x.length !== s.y.length) throw new Error(`${fn}: series '${s.name}' has ${s.x.length} x values but ${s.y.length} y values`);
  for (const [what, values] of extra) {
    if (values !== undefined && values.length !== s.x.length) throw new Error(`${fn}: series '${s.name}' has ${values.length} ${what} values for ${s.x.length} points`);
  }
}

/** Line plot of one or more series; series with lower/upper get a shaded error band. */
export function linePlot(series: LineSeries[], options: PlotOptions = {}): string {
  if (series.length === 0) throw new Error('linePlot: no series');
  const xs: ArrayLike<number>[] = [], ys: ArrayLike<number>[] = [];
  for (const s of series) {
    checkSeries('linePlot', s, [['lower', s.lower], ['upper', s.upper]]);
    if ((s.lower === undefined) !== (s.upper === undefined)) throw new Error(`linePlot: series '${s.name}' has only one of lower / upper`);
    xs.push(s.x);
    ys.push(s.y, s.lower ?? [], s.upper ?? []);
  }
  const canvas = new Canvas(options, makeAxis(xs, options.logX ?? false, 'linePlot x axis'), makeAxis(ys, options.logY ?? false, 'linePlot y axis'));
  canvas.frame();
  const colors = series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  series.forEach((s, i) => {
    canvas.parts.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    if (s.lower && s.upper) {
      const { x, lower, upper } = s;
      for (const [start, end] of Canvas.runs(x.length, (k) => canvas.drawable(x[k], lower[k]) && canvas.drawable(x[k], upper[k]))) {
        // Upper edge left to right, then lower edge back.
        const pts: string[] = [];
        for (let k = start; k < end; k++) pts.push(canvas.point(x[k], upper[k]));
        for (let k = end - 1; k >= start; k--) pts.push(canvas.point(x[k], lower[k]));
        canvas.parts.push(`<polygon class="band" points="${pts.join(' ')}" fill="${colors[i]}" fill-opacity="0.2" stroke="none"/>`);
      }
    }
    for (const [start, end] of Canvas.runs(s.x.length, (k) => canvas.drawable(s.x[k], s.y[k]))) {
      if (end - start === 1) {
        // A point between gaps would be an invisible one-vertex line.
        canvas.parts.push(`<circle cx="${fmt(canvas.px(s.x[start]))}" cy="${fmt(canvas.py(s.y[start]))}" r="2.5" fill="${colors[i]}"/>`);
        continue;
      }
      const pts: string[] = [];
      for (let k = start; k < end; k++) pts.push(canvas.point(s.x[k], s.y[k]));
      canvas.parts.push(`<polyline class="line" points="${pts.join(' ')}" fill="none" stroke="${colors[i]}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
    canvas.parts.push('</g>');
  });
  canvas.legend(series.map((s, i) => ({ name: s.name, color: colors[i], marker: 'line', dashed: s.dashed })));
  return canvas.render();
}

/** Scatter plot; with `diagonal`, a dashed y = x line and one shared range for both axes. */
export function scatterPlot(series: ScatterSeries[], options: ScatterOptions = {}): string {
  if (series.length === 0) throw new Error('scatterPlot: no series');
  const xs: ArrayLike<number>[] = [], ys: ArrayLike<number>[] = [];
  for (const s of series) {
    checkSeries('scatterPlot', s, [['labels', s.labels]]);
    xs.push(s.x);
    ys.push(s.y);
  }
  const logX = options.logX ?? false, logY = options.logY ?? false;
  let xAxis: Axis, yAxis: Axis;
  if (options.diagonal) {
    if (logX !== logY) throw new Error('scatterPlot: a diagonal needs both axes linear or both logarithmic');
    xAxis = yAxis = makeAxis([...xs, ...ys], logX, 'scatterPlot axes');
  } else {
    xAxis = makeAxis(xs, logX, 'scatterPlot x axis');
    yAxis = makeAxis(ys, logY, 'scatterPlot y axis');
  }
  const canvas = new Canvas(options, xAxis, yAxis);
  canvas.frame();
  if (options.diagonal) {
    // Shared axes: y = x runs corner to corner (straight on log-log too).
    const lo = xAxis.min, hi = xAxis.max;
    canvas.parts.push(`<line class="diagonal" x1="${fmt(canvas.px(lo))}" y1="${fmt(canvas.py(lo))}" x2="${fmt(canvas.px(hi))}" y2="${fmt(canvas.py(hi))}" stroke="#555" stroke-dasharray="5 4"/>`);
  }
  const colors = series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  series.forEach((s, i) => {
    canvas.parts.push(`<g class="series" data-name="${escapeXml(s.name)}" fill="${colors[i]}">`);
    for (let k = 0; k < s.x.length; k++) {
      if (!canvas.drawable(s.x[k], s.y[k])) continue;
      const cx = fmt(canvas.px(s.x[k])), cy = fmt(canvas.py(s.y[k]));
      canvas.parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill-opacity="0.8"/>`);
      if (s.labels) canvas.parts.push(`<text class="point-label" x="${fmt(canvas.px(s.x[k]) + 5)}" y="${fmt(canvas.py(s.y[k]) - 5)}" font-family="sans-serif" font-size="10">${escapeXml(String(s.labels[k]))}</text>`);
    }
    canvas.parts.push('</g>');
  });
  canvas.legend(series.map((s, i) => ({ name: s.name, color: colors[i], marker: 'dot' })), options.diagonal ? 'left' : 'right');
  return canvas.render();
}

/** Training curves: one line per named loss history, x = step 1..n. */
export function lossCurves(curves: Record<string, ArrayLike<number>>, options: PlotOptions = {}): string {
  const series = Object.entries(curves).map(([name, y]) => ({ name, x: Array.from({ length: y.length }, (_, i) => i + 1), y }));
  return linePlot(series, { xLabel: 'step', yLabel: 'loss', ...options });
}

/** Writes an SVG string to `path` atomically. */
export function saveSvg(path: string, svg: string): void {
  writeFileAtomic(path, svg);
}
