// The record fields a backend sets rather than the op (src/schema.ts marks them `backend`).
import type { RecordValues } from '../schema.js';
import type { Buf, MatmulParams, Precision, View } from './interface.js';

/** [batch, rows, cols] strides of a matmul operand with 3 strides, or 2 (one matrix shared by every batch). */
function matrixStrides(backend: string, role: string, v: View, rows: number, cols: number): [number, number, number] {
  const r = v.strides.length, rank = v.shape.length;
  if ((r !== 2 && r !== 3) || v.shape[rank - 2] !== rows || v.shape[rank - 1] !== cols) {
    throw new Error(`matmul: ${role} has shape [${v.shape.join(', ')}], expected [batch, ${rows}, ${cols}] (${backend} backend)`);
  }
  return [r === 3 ? v.strides[0] : 0, v.strides[r - 2], v.strides[r - 1]];
}

/** The whole matmul record: the op's params, the operands' strides and offsets, the precision. The fields are
 *  listed rather than spread from p: spreading cost more than the small kernel it describes. */
export function matmulRecord(backend: string, a: View, b: View, p: MatmulParams,
  precision: Precision = 'float32'): RecordValues<'matmul', Buf> {
  return {
    batch: p.batch, M: p.M, N: p.N, K: p.K,
    a_strides: matrixStrides(backend, 'a', a, p.M, p.K), a_offset: a.offset,
    b_strides: matrixStrides(backend, 'b', b, p.K, p.N), b_offset: b.offset,
    alpha: p.alpha, bias: p.bias, act: p.act,
    precision,
  };
}
