import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linePlot, scatterPlot, lossCurves, saveSvg, makeAxis } from '../src/plot/svg.js';

const test = suite('plot: svg');

/** Checks that tags nest properly under one <svg> root; returns the tag names seen. */
function checkXml(svg: string): string[] {
  assert.ok(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"'));
  const body = svg.replace(/^<\?xml[^?]*\?>/, '');
  const stack: string[] = [];
  const seen: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const between = body.slice(last, m.index);
    assert.not.ok(/[<>]/.test(between), `stray angle bracket in text: ${between}`);
    assert.not.ok(/&(?!(lt|gt|amp|quot|apos);)/.test(between), `unescaped & in text: ${between}`);
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    seen.push(name);
    if (closing) assert.is(stack.pop(), name, `closing </${name}>`);
    else if (!selfClosing) stack.push(name);
    if (stack.length === 0) assert.is(name, 'svg', 'single root');
  }
  assert.is(stack.length, 0, `unclosed: ${stack.join(', ')}`);
  assert.is(body.slice(last).trim(), '');
  return seen;
}

const ticks = (svg: string, axis: 'x' | 'y') =>
  [...svg.matchAll(new RegExp(`class="tick-${axis}"[^>]*>([^<]*)<`, 'g'))].map((m) => m[1]);

/** Linear ticks: ascending, evenly spaced by a 1-2-5 step, covering [lo, hi]. */
function checkLinearTicks(labels: string[], lo: number, hi: number): void {
  const values = labels.map(Number);
  assert.ok(values.every(Number.isFinite), `numeric tick labels: ${labels}`);
  assert.ok(values.length >= 3 && values.length <= 12, `tick count ${values.length}`);
  const step = values[1] - values[0];
  for (let i = 1; i < values.length; i++) assert.ok(Math.abs(values[i] - values[i - 1] - step) < 1e-9 * Math.max(1, Math.abs(step)), `even spacing: ${labels}`);
  const mantissa = step / 10 ** Math.floor(Math.log10(step));
  assert.ok([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-9), `1-2-5 step, got ${step}`);
  assert.ok(values[0] <= lo && values[values.length - 1] >= hi, `ticks ${labels} cover [${lo}, ${hi}]`);
  assert.ok(values[0] > lo - step - 1e-12 && values[values.length - 1] < hi + step + 1e-12, `ticks ${labels} are tight around [${lo}, ${hi}]`);
}

test('line plot: structure, series, legend, labels, ticks', () => {
  const x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const svg = linePlot([
    { name: 'train', x, y: x.map((v) => 2 / (v + 1)) },
    { name: 'a<b & "c"', x, y: x.map((v) => 1.5 / (v + 1) + 0.1), dashed: true },
  ], { title: 'Loss', xLabel: 'epoch', yLabel: 'nll' });
  const tags = checkXml(svg);
  assert.is(tags.filter((t) => t === 'polyline').length, 2);
  assert.ok(svg.includes('data-name="train"'));
  assert.ok(svg.includes('data-name="a&lt;b &amp; &quot;c&quot;"'));
  assert.ok(svg.includes('>a&lt;b &amp; &quot;c&quot;</text>'), 'legend entry escaped');
  assert.ok(svg.includes('class="legend"'));
  for (const text of ['>Loss<', '>epoch<', '>nll<']) assert.ok(svg.includes(text), text);
  // Each polyline has one vertex per point.
  const first = /<polyline[^>]*points="([^"]*)"/.exec(svg)![1].split(' ');
  assert.is(first.length, 10);
  checkLinearTicks(ticks(svg, 'x'), 0, 9);
  checkLinearTicks(ticks(svg, 'y'), 0.1 + 1.5 / 10, 2);
  // Pixel coordinates stay inside the canvas.
  for (const pt of first) {
    const [px, py] = pt.split(',').map(Number);
    assert.ok(px >= 0 && px <= 640 && py >= 0 && py <= 400, pt);
  }
});

test('log x axis: decade ticks; non-positive x left out', () => {
  const widths = [64, 128, 256, 512, 1024, 2048, 4096];
  const svg = linePlot([{ name: 'lr', x: [0, ...widths], y: [1, ...widths.map((w) => 1 / Math.sqrt(w))] }], { logX: true, logY: true });
  checkXml(svg);
  assert.equal(ticks(svg, 'x'), ['10', '100', '1000', '10000']);
  // y runs from 1/sqrt(4096) = 0.0156 to 1: decades 0.01 .. 1.
  assert.equal(ticks(svg, 'y'), ['0.01', '0.1', '1']);
  const pts = /<polyline[^>]*points="([^"]*)"/.exec(svg)![1].split(' ');
  assert.is(pts.length, 7, 'x = 0 cannot be drawn on a log axis');
  // Equal ratios give equal pixel steps on a log axis.
  const xs = pts.map((p) => Number(p.split(',')[0]));
  for (let i = 2; i < xs.length; i++) assert.ok(Math.abs(xs[i] - xs[i - 1] - (xs[1] - xs[0])) < 0.02);
});

test('error bands: one polygon per band, upper then lower edge', () => {
  const x = [1, 2, 3, 4];
  const svg = linePlot([{ name: 'mean', x, y: [1, 2, 3, 4], lower: [0.5, 1.5, 2.5, 3.5], upper: [1.5, 2.5, 3.5, 4.5] }]);
  checkXml(svg);
  const polygons = [...svg.matchAll(/<polygon class="band" points="([^"]*)"/g)];
  assert.is(polygons.length, 1);
  const pts = polygons[0][1].split(' ').map((p) => p.split(',').map(Number));
  assert.is(pts.length, 8);
  assert.is(pts[0][0], pts[7][0], 'band closes at the first x');
  assert.ok(pts[0][1] < pts[7][1], 'upper edge is above (smaller pixel y) the lower edge');
  checkLinearTicks(ticks(svg, 'y'), 0.5, 4.5);
  assert.throws(() => linePlot([{ name: 'm', x, y: x, lower: x }]), /only one of lower \/ upper/);
  assert.throws(() => linePlot([{ name: 'm', x, y: x, lower: [1], upper: [1] }]), /series 'm' has 1 lower values for 4 points/);
});

test('loss curves: x = steps, NaN breaks the line, a lone point is drawn as a dot', () => {
  const svg = lossCurves({ train: [2, 1.5, NaN, 1.1, 1.0, NaN, 0.8], val: [2.2, 1.9, 1.7, 1.6, 1.55, 1.5, 1.52] });
  checkXml(svg);
  const train = /data-name="train">([\s\S]*?)<\/g>/.exec(svg)![1];
  assert.is((train.match(/<polyline/g) ?? []).length, 2);
  assert.is((train.match(/<circle/g) ?? []).length, 1);
  checkLinearTicks(ticks(svg, 'x'), 1, 7);
  assert.ok(svg.includes('>step<') && svg.includes('>loss<'));
});

test('scatter: points, labels, diagonal with shared axes', () => {
  const svg = scatterPlot([{ name: 'pred', x: [0.1, 0.5, 0.9, NaN], y: [0.2, 0.45, 1.3, 0], labels: ['a', 'b', 'c&d', 'skip'] }], { diagonal: true, xLabel: 'true', yLabel: 'predicted' });
  checkXml(svg);
  const points = /data-name="pred"[^>]*>([\s\S]*?)<\/g>/.exec(svg)![1];
  assert.is((points.match(/<circle/g) ?? []).length, 3, 'the NaN point is left out');
  assert.ok(svg.includes('>c&amp;d</text>'));
  assert.not.ok(svg.includes('>skip<'));
  const diagonal = /<line class="diagonal" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"/.exec(svg);
  assert.ok(diagonal, 'diagonal drawn');
  assert.equal(ticks(svg, 'x'), ticks(svg, 'y'), 'one range for both axes');
  checkLinearTicks(ticks(svg, 'x'), 0.1, 1.3);
  assert.throws(() => scatterPlot([{ name: 's', x: [1], y: [1] }], { diagonal: true, logX: true }), /both axes linear or both logarithmic/);
});

test('axes: tick values are clean decimals; degenerate and empty inputs', () => {
  const axis = makeAxis([[0.13], [0.87]], false, 'test');
  assert.equal(axis.labels, ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9']);
  const constant = makeAxis([[5, 5, 5]], false, 'test');
  assert.ok(constant.min < 5 && constant.max > 5);
  assert.equal(makeAxis([[2e6, 7e6]], false, 'test').labels, ['2e6', '3e6', '4e6', '5e6', '6e6', '7e6']);
  assert.equal(makeAxis([[1e6, 3e6]], false, 'test').labels, ['1.0e6', '1.5e6', '2.0e6', '2.5e6', '3.0e6']);
  assert.throws(() => makeAxis([[NaN, Infinity]], false, 'linePlot y axis'), /linePlot y axis: no finite values/);
  assert.throws(() => linePlot([{ name: 'neg', x: [1, 2], y: [-1, 0] }], { logY: true }), /no positive finite values/);
  assert.throws(() => linePlot([{ name: 'bad', x: [1, 2], y: [1] }]), /series 'bad' has 2 x values but 1 y values/);
  assert.throws(() => linePlot([]), /no series/);
  // A long history (beyond the argument limit of a spread call) still plots.
  const long = new Float32Array(150_000).map((_, i) => 1 / (i + 1));
  assert.equal(ticks(lossCurves({ long }, { logX: true }), 'x'), ['1', '10', '100', '1000', '10000', '1e5', '1e6']);
});

test('saveSvg writes the file atomically', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-plot-'));
  try {
    const svg = lossCurves({ train: [3, 2, 1] });
    saveSvg(join(dir, 'loss.svg'), svg);
    assert.is(readFileSync(join(dir, 'loss.svg'), 'utf8'), svg);
    assert.equal(readdirSync(dir), ['loss.svg']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
