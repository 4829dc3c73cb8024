// Shared checks for ops: the one place user-facing error messages are made.
import type { Backend, View } from '../backend/interface.js';
import { Tensor } from '../tensor.js';

export function describeAll(ts: Tensor[]): string {
  return ts.map((t) => (t.isDisposed ? '(disposed tensor)' : t.describe())).join(', ');
}

export function opError(op: string, msg: string, ts: Tensor[] = []): Error {
  return new Error(ts.length ? `${op}: ${msg} (got ${describeAll(ts)})` : `${op}: ${msg}`);
}

/** Checks the inputs are live and on one backend; returns that backend. */
export function commonBackend(op: string, ts: Tensor[]): Backend {
  for (const t of ts) {
    if (!(t instanceof Tensor)) throw new Error(`${op}: expected a Tensor, got ${typeof t === 'object' ? (t as object)?.constructor?.name : typeof t}`);
    if (t.isDisposed) throw opError(op, 'a tensor was used after dispose()', ts);
  }
  const b = ts[0].backend;
  for (let i = 1; i < ts.length; i++) {
    if (ts[i].backend !== b) throw opError(op, 'tensors are on different backends; move them with .to(name)', ts);
  }
  return b;
}

export function requireFloat(op: string, ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'float32') throw opError(op, 'expects float32 tensors', ts);
}

export function requireInt(op: string, what: string, t: Tensor, all: Tensor[]): void {
  if (t.dtype !== 'int32') throw opError(op, `${what} must be int32`, all);
}

export function requireFinite(op: string, name: string, v: number): void {
  if (!Number.isFinite(v)) throw new Error(`${op}: ${name} must be a finite number, got ${v}`);
}

/**
 * Runs a kernel, turning a backend error into one that names the op and the inputs. `made` are the tensors the
 * op allocated for this kernel: they are freed when it fails, since the op returns nothing that could hold them.
 */
export function runKernel<T>(op: string, ts: Tensor[], fn: () => T, made: (Tensor | null | undefined)[] = []): T {
  try {
    return fn();
  } catch (e) {
    for (const t of made) t?.dispose();
    const msg = (e as Error).message ?? String(e);
    if (msg.startsWith(`${op}:`)) throw e;
    throw new Error(`${op}: ${msg} (inputs ${describeAll(ts)})`);
  }
}

// The ops the user called, outermost first: an op built from other ops runs them inside asOp, so their errors,
// and the out-of-range indices a GPU kernel reports later (see userOp), name the op the user called.
const callers: string[] = [];

/**
 * Runs `fn` as the op `op`: an error thrown inside it (by an op it calls, a kernel, or the JS engine) is rethrown
 * as an Error whose message starts with `op:`, replacing the name of the inner op it started with.
 */
export function asOp<T>(op: string, fn: () => T): T {
  callers.push(op);
  try {
    return fn();
  } catch (e) {
    throw namedError(e, op);
  } finally {
    callers.pop();
  }
}

/** The op the user called (the outermost asOp), or `op` when it was called directly. */
export function userOp(op: string): string {
  return callers[0] ?? op;
}

/** `e` as an Error whose message starts with `op:` (a message led by another op's name gets `op` instead). */
export function namedError(e: unknown, op: string): Error {
  const msg = e instanceof Error ? e.message : String(e);
  if (msg.startsWith(`${op}:`) || msg.startsWith(`${op}(`)) return e instanceof Error && e.constructor === Error ? e : new Error(msg, { cause: e });
  const inner = /^[A-Za-z_][\w.]*: /.exec(msg);
  return new Error(`${op}: ${inner ? msg.slice(inner[0].length) : msg}`, { cause: e });
}

/** An error from the internal op `inner` reworded as coming from `outer`, the op the user called. */
export function renameOpError(e: unknown, inner: string, outer: string): Error {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.startsWith(`${inner}:`) ? new Error(`${outer}:${msg.slice(inner.length + 1)}`) : (e as Error);
}

/** The kernel view of x broadcast to `shape` (0 strides on broadcast axes). */
export function expandView(x: Tensor, shape: readonly number[]): View {
  const v = x.view();
  const nd = shape.length, off = nd - x.ndim;
  const strides = new Array<number>(nd);
  for (let d = 0; d < nd; d++) {
    strides[d] = d < off || (x.shape[d - off] === 1 && shape[d] !== 1) ? 0 : x.strides[d - off];
  }
  return { buf: v.buf, shape, strides, offset: v.offset };
}

/** Edit distance between a and b, ignoring case and underscores (so weight_decay is near weightDecay). */
function editDistance(a: string, b: string): number {
  const s = a.toLowerCase().replace(/_/g, ''), t = b.toLowerCase().replace(/_/g, '');
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[t.length];
}

/**
 * Refuses an options object with a key outside `valid`, naming the op (or class) and the key and suggesting
 * the closest valid key; `renamed` maps other libraries' names (torch's weight_decay, betas) to Tessera's.
 */
export function checkOptions(op: string, opts: unknown, valid: readonly string[], renamed: Readonly<Record<string, string>> = {}): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`${op}: options must be an object, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`);
  }
  for (const [key, value] of Object.entries(opts)) {
    // A key set to undefined is an option left at its default (as passing an options object through does).
    if (valid.includes(key) || value === undefined) continue;
    let hint: string;
    if (Object.prototype.hasOwnProperty.call(renamed, key)) hint = `Tessera calls it ${renamed[key]}`;
    else if (valid.length === 0) hint = 'it takes no options';
    else hint = `did you mean '${valid.reduce((best, k) => (editDistance(key, k) < editDistance(key, best) ? k : best))}'?`;
    throw new Error(`${op}: unknown option '${key}'; ${hint} (valid: ${valid.join(', ')})`);
  }
}
