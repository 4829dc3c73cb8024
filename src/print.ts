// How a tensor's values print (Tensor.toString, console.log): nested rows aligned to one column width,
// and, for a tensor over PRINT_THRESHOLD elements, only the first and last PRINT_EDGE entries of each
// axis with "..." between them, as PyTorch prints, so that console.log of a big tensor stays readable.

const PRINT_THRESHOLD = 1000;
const PRINT_EDGE = 3;

/** Five significant digits, the shortest form JavaScript gives for them (1, 0.33333, 1e-7, NaN). */
const formatNumber = (v: number, integer: boolean): string => (integer ? String(v) : String(Number(v.toPrecision(5))));

/** The values of a dense row-major `data` of `shape`, as nested bracketed rows. */
export function formatValues(data: ArrayLike<number>, shape: readonly number[], integer: boolean): string {
  const size = shape.reduce((a, b) => a * b, 1);
  const summarize = size > PRINT_THRESHOLD;
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  const shown = (n: number): (number | null)[] => (summarize && n > 2 * PRINT_EDGE
    ? [...Array.from({ length: PRINT_EDGE }, (_, i) => i), null, ...Array.from({ length: PRINT_EDGE }, (_, i) => n - PRINT_EDGE + i)]
    : Array.from({ length: n }, (_, i) => i));

  // The shown entries' text, first, for the common width.
  const texts = new Map<number, string>();
  const collect = (axis: number, offset: number): void => {
    if (axis === shape.length) { texts.set(offset, formatNumber(data[offset], integer)); return; }
    for (const i of shown(shape[axis])) if (i !== null) collect(axis + 1, offset + i * strides[axis]);
  };
  collect(0, 0);
  const width = Math.max(0, ...[...texts.values()].map((t) => t.length));

  const render = (axis: number, offset: number): string => {
    if (axis === shape.length) return texts.get(offset)!.padStart(width);
    const parts = shown(shape[axis]).map((i) => (i === null ? '...' : render(axis + 1, offset + i * strides[axis])));
    const separator = axis === shape.length - 1 ? ', ' : ',' + '\n'.repeat(shape.length - 1 - axis) + ' '.repeat(axis + 1);
    return `[${parts.join(separator)}]`;
  };
  return render(0, 0);
}
