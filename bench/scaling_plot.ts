// Log-log charts of the scaling cases (bench/cases/scaling.ts): time against work for Tessera and
// each peer, one SVG per series, written next to the results file.
import { basename, dirname, join } from 'node:path';
import { linePlot, saveSvg } from '../src/plot/svg.js';

interface Row { tesseraMs: number; peers: Record<string, number>; scaling?: { plot: string; work: number; workUnit: string } }

/** Writes <results name>-<plot>.svg for each scaling series among `rows`; returns the paths. */
export function plotScaling(rows: Record<string, unknown>[], resultsFile: string): string[] {
  const byPlot = new Map<string, Row[]>();
  for (const r of rows as unknown as Row[]) {
    if (!r.scaling) continue;
    byPlot.set(r.scaling.plot, [...(byPlot.get(r.scaling.plot) ?? []), r]);
  }
  const written: string[] = [];
  for (const [plot, points] of byPlot) {
    points.sort((a, b) => a.scaling!.work - b.scaling!.work);
    const x = points.map((p) => p.scaling!.work);
    const labels = [...new Set(points.flatMap((p) => Object.keys(p.peers)))];
    const series = [
      { name: 'tessera', x, y: points.map((p) => p.tesseraMs) },
      ...labels.map((l) => ({ name: l, x, y: points.map((p) => p.peers[l] ?? NaN), dashed: true })),
    ];
    const file = join(dirname(resultsFile), `${basename(resultsFile, '.json')}-${plot.replace(/[^A-Za-z0-9]+/g, '-')}.svg`);
    saveSvg(file, linePlot(series, {
      title: plot, xLabel: points[0].scaling!.workUnit, yLabel: 'ms per call (median)', logX: true, logY: true, width: 760, height: 480,
    }));
    written.push(file);
  }
  return written;
}
