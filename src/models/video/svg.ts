// SVG figures of the video models: the SPL confusion matrix as a heat map and
// Grad-CAM maps over a clip's frames (each frame an embedded PNG, so that the
// figure is one standalone file).
import * as T from '../../index.js';

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const fmt = (v: number) => String(Math.round(v * 100) / 100);

/** A perceptually ordered ramp (white -> yellow -> red -> dark red) at t in [0, 1], as [r, g, b] 0..255. */
export function heatColor(t: number): [number, number, number] {
  const stops: [number, number, number, number][] = [[0, 255, 255, 255], [0.25, 254, 230, 120], [0.5, 253, 141, 60], [0.75, 215, 48, 31], [1, 127, 0, 0]];
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  let k = 0;
  while (k < stops.length - 2 && x > stops[k + 1][0]) k++;
  const [a, b] = [stops[k], stops[k + 1]], f = (x - a[0]) / (b[0] - a[0]);
  return [1, 2, 3].map((i) => Math.round(a[i] + f * (b[i] - a[i]))) as [number, number, number];
}

const css = ([r, g, b]: number[]) => `rgb(${r},${g},${b})`;

export interface HeatmapOptions {
  title?: string;
  rowLabel?: string;
  colLabel?: string;
  rowNames?: string[];
  colNames?: string[];
  /** Cells drawn with a heavy outline (e.g. the confusion cells that became SPL classes). */
  outlined?: ArrayLike<boolean>;
  /** Pixels per cell; default 34. */
  cell?: number;
}

/**
 * A rows x cols count matrix (row-major) as a heat map: colour by sqrt(count / max) so that
 * small off-diagonal cells stay visible, the count printed in every non-empty cell.
 */
export function countHeatmap(matrix: ArrayLike<number>, rows: number, cols: number, opts: HeatmapOptions = {}): string {
  if (matrix.length !== rows * cols) throw new Error(`countHeatmap: ${matrix.length} values for ${rows} x ${cols} cells`);
  const cell = opts.cell ?? 34;
  const rowNames = opts.rowNames ?? Array.from({ length: rows }, (_, i) => String(i));
  const colNames = opts.colNames ?? Array.from({ length: cols }, (_, i) => String(i));
  const longest = (names: string[]) => Math.max(...names.map((n) => n.length));
  const left = 40 + 7 * longest(rowNames), top = 56 + 7 * longest(colNames);
  const width = left + cols * cell + 24, height = top + rows * cell + 30;
  let max = 0;
  for (let i = 0; i < matrix.length; i++) max = Math.max(max, matrix[i]);
  const parts: string[] = [`<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`];
  if (opts.title) parts.push(`<text x="${fmt(width / 2)}" y="20" text-anchor="middle" font-family="sans-serif" font-size="14">${escapeXml(opts.title)}</text>`);
  parts.push('<g class="cells" font-family="sans-serif" font-size="10" text-anchor="middle">');
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = matrix[r * cols + c], x = left + c * cell, y = top + r * cell;
      const color = heatColor(max > 0 ? Math.sqrt(v / max) : 0);
      const outline = opts.outlined?.[r * cols + c] ? ' stroke="black" stroke-width="2"' : ' stroke="#ddd" stroke-width="0.5"';
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${css(color)}"${outline}><title>${escapeXml(`${rowNames[r]} / ${colNames[c]}: ${v}`)}</title></rect>`);
      if (v > 0) {
        const dark = color[1] < 120;
        parts.push(`<text x="${fmt(x + cell / 2)}" y="${fmt(y + cell / 2 + 3.5)}" fill="${dark ? 'white' : 'black'}">${v}</text>`);
      }
    }
  }
  parts.push('</g>');
  parts.push('<g class="names" font-family="sans-serif" font-size="11">');
  rowNames.forEach((n, r) => parts.push(`<text x="${left - 6}" y="${fmt(top + r * cell + cell / 2 + 4)}" text-anchor="end">${escapeXml(n)}</text>`));
  colNames.forEach((n, c) => {
    const x = fmt(left + c * cell + cell / 2 + 4), y = top - 6;
    parts.push(`<text x="${x}" y="${y}" text-anchor="start" transform="rotate(-60 ${x} ${y})">${escapeXml(n)}</text>`);
  });
  parts.push('</g>');
  if (opts.rowLabel) {
    const cy = fmt(top + (rows * cell) / 2);
    parts.push(`<text x="14" y="${cy}" text-anchor="middle" transform="rotate(-90 14 ${cy})" font-family="sans-serif" font-size="12">${escapeXml(opts.rowLabel)}</text>`);
  }
  if (opts.colLabel) parts.push(`<text x="${fmt(left + (cols * cell) / 2)}" y="${height - 8}" text-anchor="middle" font-family="sans-serif" font-size="12">${escapeXml(opts.colLabel)}</text>`);
  return svgDocument(width, height, parts);
}

function svgDocument(width: number, height: number, parts: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n${parts.join('\n')}\n</svg>\n`;
}

export interface FrameStripRow {
  label: string;
  /** Per frame: RGB bytes [height * width * 3]. */
  frames: Uint8Array[];
}

/** Rows of frames side by side (each frame an embedded PNG scaled by `scale`, pixelated), with a label per row. */
export function frameStrip(rows: FrameStripRow[], width: number, height: number, opts: { title?: string; scale?: number; frameNames?: string[] } = {}): string {
  const scale = opts.scale ?? 3, w = width * scale, h = height * scale, gap = 4;
  const labelWidth = 12 + 7 * Math.max(...rows.map((r) => r.label.length)), top = opts.title ? 48 : 28;
  const frames = Math.max(...rows.map((r) => r.frames.length));
  const W = labelWidth + frames * (w + gap) + 8, H = top + rows.length * (h + gap) + 8;
  const parts: string[] = [`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`];
  if (opts.title) parts.push(`<text x="${fmt(W / 2)}" y="20" text-anchor="middle" font-family="sans-serif" font-size="14">${escapeXml(opts.title)}</text>`);
  for (let f = 0; f < frames; f++) {
    const name = opts.frameNames?.[f] ?? `t=${f}`;
    parts.push(`<text x="${fmt(labelWidth + f * (w + gap) + w / 2)}" y="${top - 6}" text-anchor="middle" font-family="sans-serif" font-size="11">${escapeXml(name)}</text>`);
  }
  rows.forEach((row, r) => {
    const y = top + r * (h + gap);
    parts.push(`<text x="${labelWidth - 6}" y="${fmt(y + h / 2 + 4)}" text-anchor="end" font-family="sans-serif" font-size="11">${escapeXml(row.label)}</text>`);
    row.frames.forEach((rgb, f) => {
      const png = T.plot.encodePngPixels(rgb, width, height).toString('base64');
      parts.push(`<image x="${labelWidth + f * (w + gap)}" y="${y}" width="${w}" height="${h}" style="image-rendering:pixelated" preserveAspectRatio="none" href="data:image/png;base64,${png}"/>`);
    });
  });
  return svgDocument(W, H, parts);
}
