// IDX files (MNIST): bytes 0-1 zero, byte 2 the element type, byte 3 the number
// of dimensions d, then d big-endian u32 sizes, then the big-endian elements.

import { join } from 'node:path';
import { datasetDir } from './paths.js';
import { findDataFile, readDataFile } from './text.js';

export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxData {
  dtype: IdxDType;
  shape: number[];
  data: IdxArray;
  /** The 32-bit magic number: (type code << 8) | number of dimensions. */
  magic: number;
}

const IDX_TYPES: Record<number, { dtype: IdxDType; bytes: number; read: (v: DataView, at: number) => number; make: (n: number) => IdxArray }> = {
  0x08: { dtype: 'uint8', bytes: 1, read: (v, at) => v.getUint8(at), make: (n) => new Uint8Array(n) },
  0x09: { dtype: 'int8', bytes: 1, read: (v, at) => v.getInt8(at), make: (n) => new Int8Array(n) },
  0x0b: { dtype: 'int16', bytes: 2, read: (v, at) => v.getInt16(at), make: (n) => new Int16Array(n) },
  0x0c: { dtype: 'int32', bytes: 4, read: (v, at) => v.getInt32(at), make: (n) => new Int32Array(n) },
  0x0d: { dtype: 'float32', bytes: 4, read: (v, at) => v.getFloat32(at), make: (n) => new Float32Array(n) },
  0x0e: { dtype: 'float64', bytes: 8, read: (v, at) => v.getFloat64(at), make: (n) => new Float64Array(n) },
};

/** Reads any IDX file (gzipped or not); `expectMagic` rejects files of another type or rank. */
export function loadIdx(path: string, expectMagic?: number): IdxData {
  const buf = readDataFile(path);
  if (buf.length < 4) throw new Error(`${path}: ${buf.length} bytes, too short for an IDX header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0);
  if (expectMagic !== undefined && magic !== expectMagic) {
    throw new Error(`${path}: IDX magic number ${magic}, expected ${expectMagic}`);
  }
  const type = IDX_TYPES[buf[2]];
  if (buf[0] !== 0 || buf[1] !== 0 || !type) {
    throw new Error(`${path}: not an IDX file (magic number 0x${magic.toString(16).padStart(8, '0')})`);
  }
  const rank = buf[3];
  const headerBytes = 4 + 4 * rank;
  if (buf.length < headerBytes) throw new Error(`${path}: truncated IDX header (${rank} dimensions need ${headerBytes} bytes, file has ${buf.length})`);
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) shape.push(view.getUint32(4 + 4 * d));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * type.bytes;
  if (buf.length !== expected) {
    throw new Error(`${path}: IDX shape [${shape.join(', ')}] of ${type.dtype} needs ${expected} bytes, file has ${buf.length}`);
  }
  const data = type.make(count);
  if (type.bytes === 1) {
    data.set(type.dtype === 'uint8' ? buf.subarray(headerBytes) : new Int8Array(buf.buffer, buf.byteOffset + headerBytes, count));
  } else {
    // Multi-byte elements are big-endian: DataView converts them.
    for (let i = 0; i < count; i++) data[i] = type.read(view, headerBytes + i * type.bytes);
  }
  return { dtype: type.dtype, shape, data, magic };
}

export interface MnistData {
  count: number;
  rows: number;
  cols: number;
  /** [count, rows, cols], pixel / 255, in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
}

/** MNIST images + labels; split 't10k' (the only one in shared/data) or 'train'. */
export function loadMnist(options: { split?: 't10k' | 'train'; dir?: string } = {}): MnistData {
  const dir = options.dir ?? datasetDir('mnist');
  const split = options.split ?? 't10k';
  const imagePath = findDataFile(join(dir, `${split}-images-idx3-ubyte`));
  const labelPath = findDataFile(join(dir, `${split}-labels-idx1-ubyte`));
  const images = loadIdx(imagePath, 2051); // 0x0803: uint8, 3 dims
  const labels = loadIdx(labelPath, 2049); // 0x0801: uint8, 1 dim
  const [count, rows, cols] = images.shape;
  if (labels.shape[0] !== count) {
    throw new Error(`${labelPath}: ${labels.shape[0]} labels for ${count} images in ${imagePath}`);
  }
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0) throw new Error(`${labelPath}: label ${labels.data[bad]} of image ${bad} is not a digit 0-9`);
  const scaled = new Float32Array(images.data.length);
  for (let i = 0; i < scaled.length; i++) scaled[i] = images.data[i] / 255;
  return { count, rows, cols, images: scaled, labels: Int32Array.from(labels.data) };
}
