import type { Buf, DType } from './interface.js';

export type HostArray = Float32Array | Int32Array | Float64Array;

/** Storage in host memory, shared by the `reference` and `cpu` backends.
 *  `data` is Float64Array only in the float64 reference oracle. */
export class HostBuf implements Buf {
  constructor(public data: HostArray, readonly dtype: DType) {}
  get size(): number { return this.data.length; }
}

export function hostData(buf: Buf): HostArray {
  if (!(buf instanceof HostBuf)) throw new Error(`expected host storage, got ${buf.constructor.name}`);
  return buf.data;
}
