// Several line plots in one SVG file: each panel is a complete chart from
// plot/svg.ts, nested as an <svg> element at its grid position.
import { plot } from '../../index.js';
import linePlot = plot.linePlot;
type LineSeries = plot.LineSeries;
type PlotOptions = plot.PlotOptions;

export interface Panel { series: LineSeries[]; options: PlotOptions }

export function panelGrid(panels: Panel[], opts: { columns?: number; title?: string; panelWidth?: number; panelHeight?: number } = {}): string {
  if (panels.length === 0) throw new Error('panelGrid: no panels');
  const w = opts.panelWidth ?? 480, h = opts.panelHeight ?? 340;
  const columns = Math.min(opts.columns ?? 3, panels.length), rows = Math.ceil(panels.length / columns);
  const top = opts.title ? 36 : 0;
  const parts = panels.map((p, i) => {
    const svg = linePlot(p.series, { ...p.options, width: w, height: h });
    const body = svg.slice(svg.indexOf('<svg'));
    // Position the nested chart by giving its root element x and y.
    return body.replace('<svg ', `<svg x="${(i % columns) * w}" y="${top + Math.floor(i / columns) * h}" `);
  });
  const width = columns * w, height = top + rows * h;
  const title = opts.title
    ? `<text x="${width / 2}" y="24" text-anchor="middle" font-family="sans-serif" font-size="17">${opts.title.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!)}</text>\n`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>\n${title}${parts.join('\n')}</svg>\n`;
}
