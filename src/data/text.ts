// Byte-level readers shared by the dataset loaders. Files are parsed straight
// from the (decompressed) Buffer instead of `toString().split()`: citeseer's
// content file has 12M fields, and one JS string per field costs seconds.

import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** Reads a data file, gunzipping it when it starts with the gzip magic bytes. */
export function readDataFile(path: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw);
    } catch (e) {
      throw new Error(`${path}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  return raw;
}

/** `<base>` if it exists, else `<base>.gz`; throws naming both when neither exists. */
export function findDataFile(base: string): string {
  if (existsSync(base)) return base;
  if (existsSync(`${base}.gz`)) return `${base}.gz`;
  throw new Error(`data file not found: ${base} (nor ${base}.gz)`);
}

const TAB = 0x09, LF = 0x0a, CR = 0x0d, SPACE = 0x20, COMMA = 0x2c;
const MINUS = 0x2d, PLUS = 0x2b, ZERO = 0x30, NINE = 0x39;
/** A decimal numeral: optional sign, digits with an optional point, optional exponent. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Which bytes separate fields: runs of tabs/spaces, or single commas. */
export type Delimiter = 'whitespace' | 'comma';

/**
 * Walks the non-blank lines of a text buffer and splits each into fields.
 * Field i of the current line is bytes [starts[i], ends[i]) of `buf`;
 * the arrays are reused between lines, so read them before calling next().
 */
export class FieldReader {
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  count = 0;
  /** 1-based number of the current line in the file (blank lines counted). */
  line = 0;
  private pos = 0;

  constructor(readonly buf: Buffer, readonly file: string, private readonly delimiter: Delimiter) {}

  /** Number of lines in the file (an upper bound on the rows), for preallocation. */
  lineCount(): number {
    const buf = this.buf;
    let lines = 0;
    for (let at = buf.indexOf(LF); at >= 0; at = buf.indexOf(LF, at + 1)) lines++;
    return buf.length > 0 && buf[buf.length - 1] !== LF ? lines + 1 : lines;
  }

  /** Advances to the next non-blank line; false at end of input. */
  next(): boolean {
    const buf = this.buf;
    while (this.pos < buf.length) {
      let end = buf.indexOf(LF, this.pos);
      if (end < 0) end = buf.length;
      const start = this.pos;
      this.pos = end + 1;
      this.line++;
      let stop = end;
      if (stop > start && buf[stop - 1] === CR) stop--;
      if (this.split(start, stop) > 0) return true;
    }
    return false;
  }

  private split(start: number, stop: number): number {
    const buf = this.buf;
    this.count = 0;
    if (this.delimiter === 'comma') {
      let blank = true;
      for (let i = start; i < stop; i++) if (buf[i] !== SPACE && buf[i] !== TAB) { blank = false; break; }
      if (blank) return 0;
      let fieldStart = start;
      for (let i = start; i <= stop; i++) {
        if (i === stop || buf[i] === COMMA) { this.push(fieldStart, i); fieldStart = i + 1; }
      }
    } else {
      let i = start;
      while (i < stop) {
        while (i < stop && (buf[i] === SPACE || buf[i] === TAB)) i++;
        if (i === stop) break;
        const fieldStart = i;
        while (i < stop && buf[i] !== SPACE && buf[i] !== TAB) i++;
        this.push(fieldStart, i);
      }
    }
    return this.count;
  }

  private push(start: number, end: number): void {
    if (this.count === this.starts.length) {
      const grow = (a: Int32Array) => { const b = new Int32Array(a.length * 2); b.set(a); return b; };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.count++;
  }

  /** Field i as a string (ids, class names). */
  text(i: number): string { return this.buf.toString('utf8', this.starts[i], this.ends[i]); }

  /** Field i as a number; throws naming file, line and column on anything else. */
  number(i: number): number {
    const buf = this.buf;
    const s = this.starts[i];
    const e = this.ends[i];
    // Fast path: short plain integers (binary bag-of-words features, node ids)
    // without allocating a string.
    if (e - s > 0 && e - s <= 9) {
      let sign = 1, p = s;
      if (buf[p] === MINUS) { sign = -1; p++; } else if (buf[p] === PLUS) p++;
      if (p < e) {
        let v = 0;
        for (; p < e; p++) {
          const c = buf[p];
          if (c < ZERO || c > NINE) break;
          v = v * 10 + (c - ZERO);
        }
        if (p === e) return sign * v;
      }
    }
    const token = buf.toString('latin1', s, e).trim();
    // Number() also takes '0x1f', '0b1', '0o7' and '': a data file holds decimal numerals only.
    const v = DECIMAL.test(token) ? Number(token) : NaN;
    if (!Number.isFinite(v)) throw this.error(`field ${i + 1} is not a finite number: '${token.slice(0, 40)}'`);
    return v;
  }

  /** Field i as an integer (labels, node ids); throws when it has a fraction. */
  integer(i: number): number {
    const v = this.number(i);
    if (!Number.isInteger(v)) throw this.error(`field ${i + 1} is not an integer: ${v}`);
    return v;
  }

  /** An Error naming the file and current line. */
  error(message: string): Error { return new Error(`${this.file}:${this.line}: ${message}`); }
}

/**
 * A row-major float32 matrix with a fixed column count and a growing row
 * count. With an exact `capacityRows` it is filled in place without copies.
 */
export class RowBuilder {
  rows = 0;
  values: Float32Array;

  constructor(readonly cols: number, capacityRows: number) { this.values = new Float32Array(cols * Math.max(1, capacityRows)); }

  /** Reserves the next row and returns its offset into `values`. */
  addRow(): number {
    if ((this.rows + 1) * this.cols > this.values.length) {
      const grown = new Float32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    return this.rows++ * this.cols;
  }

  finish(): Float32Array {
    const size = this.rows * this.cols;
    return size === this.values.length ? this.values : this.values.slice(0, size);
  }
}
