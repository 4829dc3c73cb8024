// Differentiable sparse ops on a Csr: spmm (aggregate), sddmm (per-edge dot
// products) and edgeSoftmax (softmax over each row's entries). Their
// gradients are the same three kernels on A or its cached transpose:
//   spmm:   dX = A^T G,            dValues[e] = G[row_e] . X[col_e]  (sddmm)
//   sddmm:  dX = A_(values=G) Y,   dY = A^T_(values=G) X            (spmm)
// Per-head values [nnz, H] run the scalar-valued spmm kernel once, on the pattern repeated per head.
import type { Backend } from '../backend/interface.js';
import { noGrad, recordBackward } from '../tape.js';
import { Tensor, emptyTensor } from '../tensor.js';
import { fmtShape, numel } from '../shape.js';
import { commonBackend, opError, requireFloat, runKernel } from '../ops/util.js';
import { contiguous } from '../ops/elementwise.js';
import { indexSelect } from '../ops/indexing.js';
import { reshape } from '../ops/view.js';
import { Csr, type CsrPattern } from './csr.js';

/** Checks that a is a live Csr on the tensors' backend; returns that backend. */
function checkOperands(op: string, a: Csr, ts: Tensor[]): Backend {
  if (!(a instanceof Csr)) throw new Error(`${op}: expected a Csr as the sparse operand, got ${typeof a === 'object' ? (a as object)?.constructor?.name : typeof a}`);
  if (a.isDisposed) throw new Error(`${op}: the sparse matrix was used after dispose()`);
  const backend = commonBackend(op, ts);
  requireFloat(op, ts);
  if (a.backend !== backend) throw opError(op, `the sparse matrix is on ${a.backend.name}; move it with A.toBackend('${backend.name}')`, ts);
  return backend;
}

/** Dense copy of t unless it already is dense; `owned` tells whether the caller must dispose it. */
function dense(t: Tensor): { t: Tensor; owned: boolean } {
  const d = contiguous(t);
  return { t: d, owned: d !== t };
}

/**
 * out [rows, ...rest] = A x for x [cols, ...rest], with values [nnz] or none (all ones);
 * per-head values [nnz, H] need x [cols, H, ...f] and give [rows, H, ...f]. Not recorded.
 */
function propagate(p: CsrPattern, values: Tensor | null, x: Tensor): Tensor {
  const backend = p.backend;
  if (values && values.ndim === 2) {
    // All heads in one scalar-valued SpMM on the pattern repeated per head (was one SpMM per head, each on
    // copies of that head's values and features, then a stack of the results).
    const heads = values.shape[1], f = x.shape.slice(2);
    const { pattern, perm } = p.perHead(heads);
    const flatValues = reshape(values, [p.nnz * heads]), xByHead = reshape(x, [p.cols * heads, ...f]);
    const ordered = indexSelect(flatValues, 0, perm);
    const flatOut = propagate(pattern, ordered, xByHead);
    const out = reshape(flatOut, [p.rows, heads, ...f]);
    for (const t of [flatValues, xByHead, ordered, flatOut]) t.dispose();
    return out;
  }
  const out = emptyTensor(backend, [p.rows, ...x.shape.slice(1)], 'float32');
  if (out.size === 0) return out;
  if (p.nnz === 0) { backend.fill(out.storage.buf!, 0); return out; }
  const xd = dense(x), vd = values && dense(values);
  runKernel('spmm', [x], () => backend.spmm(p.kernel(vd?.t.denseBuf()), xd.t.denseBuf(), numel(x.shape.slice(1)), out.storage.buf!));
  if (xd.owned) xd.t.dispose();
  if (vd?.owned) vd.t.dispose();
  return out;
}

/** out [nnz] (x [rows, ...f]) or [nnz, H] (x [rows, H, ...f], perHead) of per-entry dots x[row] . y[col]. Not recorded. */
function edgeDots(p: CsrPattern, x: Tensor, y: Tensor, perHead: boolean): Tensor {
  const backend = p.backend;
  const H = perHead ? x.shape[1] : 1;
  const F = numel(x.shape.slice(perHead ? 2 : 1));
  const out = emptyTensor(backend, perHead ? [p.nnz, H] : [p.nnz], 'float32');
  if (out.size === 0) return out;
  if (F === 0) { backend.fill(out.storage.buf!, 0); return out; }
  const xd = dense(x), yd = dense(y);
  runKernel('sddmm', [x, y], () => backend.sddmm(p.kernel(), xd.t.denseBuf(), yd.t.denseBuf(), H, F, out.storage.buf!));
  if (xd.owned) xd.t.dispose();
  if (yd.owned) yd.t.dispose();
  return out;
}

/** A^T g with A's values: the cached transpose's, or a gather made here while the values require grad (none is cached then). */
function transposedProduct(a: Csr, g: Tensor): Tensor {
  const pt = a.patternOf().transpose().pattern;
  if (!a.values?.requiresGrad) return propagate(pt, a.transpose().values, g);
  const gathered = indexSelect(a.values, 0, a.transposePerm);
  const out = propagate(pt, gathered, g);
  gathered.dispose();
  return out;
}

/**
 * A @ X for X [cols, ...rest] -> [rows, ...rest]; with per-head values [nnz, H],
 * X [cols, H, ...f] -> [rows, H, ...f] (head h aggregated with values[:, h], as multi-head GAT).
 * Gradients flow to X and to A.values.
 */
export function spmm(a: Csr, x: Tensor): Tensor {
  const values = a.values;
  const inputs = values ? [x, values] : [x];
  checkOperands('spmm', a, inputs);
  if (x.ndim < 1 || x.shape[0] !== a.cols) {
    throw opError('spmm', `X must have ${a.cols} rows (the columns of ${a.describe()})`, inputs);
  }
  const perHead = values?.ndim === 2;
  if (perHead && (x.ndim < 2 || x.shape[1] !== values!.shape[1])) {
    throw opError('spmm', `per-head values ${fmtShape(values!.shape)} need X [${a.cols}, ${values!.shape[1]}, ...]`, inputs);
  }
  const out = noGrad(() => propagate(a.patternOf(), values, x));
  return recordBackward(out, 'spmm', inputs, (g) => [
    x.requiresGrad ? transposedProduct(a, g) : null,
    values?.requiresGrad ? edgeDots(a.patternOf(), g, x, perHead) : null,
  ]);
}

/**
 * Per-entry dot products: out[e] = X[row_e] . Y[col_e] for X [rows, F], Y [cols, F] -> [nnz];
 * X [rows, H, F], Y [cols, H, F] -> [nnz, H] (per head). A's values are not used.
 */
export function sddmm(a: Csr, x: Tensor, y: Tensor): Tensor {
  checkOperands('sddmm', a, [x, y]);
  if (x.ndim !== y.ndim || (x.ndim !== 2 && x.ndim !== 3) || x.shape[0] !== a.rows || y.shape[0] !== a.cols ||
    x.shape.slice(1).some((s, i) => s !== y.shape[i + 1])) {
    throw opError('sddmm', `expects X [${a.rows}, F] and Y [${a.cols}, F], or X [${a.rows}, H, F] and Y [${a.cols}, H, F], for ${a.describe()}`, [x, y]);
  }
  const p = a.patternOf();
  const perHead = x.ndim === 3;
  const out = noGrad(() => edgeDots(p, x, y, perHead));
  return recordBackward(out, 'sddmm', [x, y], (g) => {
    let gy: Tensor | null = null;
    if (y.requiresGrad) {
      const t = p.transpose();
      const gT = indexSelect(g, 0, t.perm);
      gy = propagate(t.pattern, gT, x);
      gT.dispose();
    }
    return [x.requiresGrad ? propagate(p, g, y) : null, gy];
  });
}

/** Softmax over the entries of each row, per head: scores [nnz] or [nnz, H]; an empty row has nothing to normalize. */
export function edgeSoftmax(a: Csr, scores: Tensor): Tensor {
  const backend = checkOperands('edgeSoftmax', a, [scores]);
  if ((scores.ndim !== 1 && scores.ndim !== 2) || scores.shape[0] !== a.nnz) {
    throw opError('edgeSoftmax', `scores must be [${a.nnz}] or [${a.nnz}, heads] for ${a.describe()}`, [scores]);
  }
  const p = a.patternOf();
  const H = scores.ndim === 2 ? scores.shape[1] : 1;
  const out = emptyTensor(backend, scores.shape, 'float32');
  if (out.size > 0) {
    const sd = noGrad(() => dense(scores));
    runKernel('edgeSoftmax', [scores], () => backend.edgeSoftmax(p.kernel(), sd.t.denseBuf(), H, out.storage.buf!));
    if (sd.owned) sd.t.dispose();
  }
  return recordBackward(out, 'edgeSoftmax', [scores], (g) => {
    const gs = emptyTensor(backend, scores.shape, 'float32');
    if (gs.size === 0) return [gs];
    const gd = dense(g);
    runKernel('edgeSoftmax', [g], () => backend.edgeSoftmaxBackward(p.kernel(), out.storage.buf!, gd.t.denseBuf(), H, gs.storage.buf!));
    if (gd.owned) gd.t.dispose();
    return [gs];
  });
}
