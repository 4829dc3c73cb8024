// The safetensors format (https://github.com/huggingface/safetensors):
//   8 bytes  little-endian u64 N
//   N bytes  JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}},
//            padded with spaces so that the data starts 8-byte aligned
//   rest     the tensors' bytes, little-endian, row-major; offsets are relative
//            to the start of this buffer, which the tensors cover exactly.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { removeStaleTempFiles, writeFileAtomic } from './atomic.js';

export type SafetensorsDType = 'F32' | 'I32' | 'F64' | 'I64' | 'U8' | 'BF16' | 'F16';

export type SafetensorsArray = Float32Array | Int32Array | Float64Array | BigInt64Array | Uint8Array | Uint16Array;

export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: number[];
  /** The matching typed array (BF16/F16: Uint16Array of raw bits; I64: BigInt64Array) or a Uint8Array of raw bytes. */
  data: ArrayBufferView;
}

export interface LoadedTensor {
  dtype: SafetensorsDType;
  shape: number[];
  /** A fresh, aligned copy (BF16/F16 as Uint16Array bits). */
  data: SafetensorsArray;
}

export interface SafetensorsContents {
  tensors: Record<string, LoadedTensor>;
  metadata: Record<string, string>;
}

type ArrayCtor = { new(buffer: ArrayBuffer): SafetensorsArray; readonly BYTES_PER_ELEMENT: number };

const DTYPES: Record<SafetensorsDType, ArrayCtor> = {
  F64: Float64Array, I64: BigInt64Array, F32: Float32Array, I32: Int32Array,
  BF16: Uint16Array, F16: Uint16Array, U8: Uint8Array,
};

const METADATA_KEY = '__metadata__';
// The reference implementation's limit; a larger N means a corrupt length field.
const MAX_HEADER_BYTES = 100_000_000;

function checkHostEndianness(fn: string): void {
  // Typed arrays use host byte order; the format is little-endian.
  if (endianness() !== 'LE') throw new Error(`${fn}: big-endian hosts are not supported`);
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isDType(v: unknown): v is SafetensorsDType {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, v);
}

function isShape(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/**
 * Writes tensors (and optional string metadata) to `path` atomically; on any
 * error the previous file at `path`, if any, is left as it was.
 */
export function saveSafetensors(path: string, tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): void {
  checkHostEndianness('saveSafetensors');
  const fail = (message: string) => new Error(`saveSafetensors: ${path}: ${message}`);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw fail(`metadata '${key}' is ${typeof value}, must be a string`);
    }
    header[METADATA_KEY] = metadata;
  }
  // Largest elements first keeps every tensor aligned to its element size
  // (the data section starts 8-byte aligned), as the reference writer does.
  const names = Object.keys(tensors).sort((a, b) => {
    const size = (n: string) => DTYPES[tensors[n].dtype]?.BYTES_PER_ELEMENT ?? 0;
    return size(b) - size(a) || (a < b ? -1 : a > b ? 1 : 0);
  });
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const { dtype, shape, data } = tensors[name];
    if (name === '' || name === METADATA_KEY) throw fail(`invalid tensor name '${name}'`);
    if (!isDType(dtype)) throw fail(`tensor '${name}': unsupported dtype '${dtype}' (supported: ${Object.keys(DTYPES).join(', ')})`);
    if (!isShape(shape)) throw fail(`tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!ArrayBuffer.isView(data)) throw fail(`tensor '${name}': data is not a typed array`);
    const ctor = DTYPES[dtype];
    if (!(data instanceof Uint8Array) && data.constructor !== ctor) {
      throw fail(`tensor '${name}': dtype ${dtype} needs a ${ctor.name} or a Uint8Array of raw bytes, got ${data.constructor.name}`);
    }
    const bytes = elementCount(shape) * ctor.BYTES_PER_ELEMENT;
    if (data.byteLength !== bytes) {
      throw fail(`tensor '${name}': shape [${shape}] of ${dtype} needs ${bytes} bytes, data has ${data.byteLength}`);
    }
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  writeFileAtomic(path, [length, json, ...chunks]);
}

/**
 * Reads and fully validates a safetensors file; throws naming the file on any inconsistency.
 * Temp files that interrupted saves of `path` left beside it are removed.
 */
export function loadSafetensors(path: string): SafetensorsContents {
  checkHostEndianness('loadSafetensors');
  removeStaleTempFiles(path);
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (e) {
    throw new Error(`loadSafetensors: ${path}: ${(e as Error).message}`);
  }
  return parseSafetensors(path, file);
}

/** loadSafetensors with the file read asynchronously (the event loop keeps running during the read). */
export async function readSafetensors(path: string): Promise<SafetensorsContents> {
  checkHostEndianness('loadSafetensors');
  removeStaleTempFiles(path);
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch (e) {
    throw new Error(`loadSafetensors: ${path}: ${(e as Error).message}`);
  }
  return parseSafetensors(path, file);
}

/** Validates and decodes the bytes of the safetensors file `path`. */
function parseSafetensors(path: string, file: Buffer): SafetensorsContents {
  const fail = (message: string) => new Error(`loadSafetensors: ${path}: ${message}`);
  if (file.length < 8) throw fail(`${file.length} bytes, too short for the 8-byte header length`);
  const headerLength = file.readBigUInt64LE(0);
  if (headerLength > BigInt(file.length - 8)) {
    throw fail(`header length ${headerLength} exceeds the ${file.length - 8} bytes after the length field (truncated or not a safetensors file)`);
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) throw fail(`header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLength);
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + n));
    if (!text.startsWith('{')) throw new Error('does not start with "{"');
    header = JSON.parse(text);
  } catch (e) {
    throw fail(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw fail('header is not a JSON object');

  const dataStart = 8 + n;
  const available = file.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`${METADATA_KEY} is not an object`);
      for (const [key, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw fail(`${METADATA_KEY}.${key} is ${typeof v}, must be a string`);
        metadata[key] = v;
      }
      continue;
    }
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof entry !== 'object' || entry === null) throw fail(`tensor '${name}': entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (!isDType(dtype)) throw fail(`tensor '${name}': unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`);
    if (!isShape(shape)) throw fail(`tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw fail(`tensor '${name}': data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offsets as [number, number];
    const bytes = elementCount(shape) * DTYPES[dtype].BYTES_PER_ELEMENT;
    if (end - begin !== bytes) throw fail(`tensor '${name}': shape [${shape}] of ${dtype} needs ${bytes} bytes, data_offsets [${begin}, ${end}] span ${end - begin}`);
    if (end > available) throw fail(`tensor '${name}': data_offsets [${begin}, ${end}] run past the ${available} data bytes in the file (truncated?)`);
    entries.push({ name, dtype, shape, begin, end });
  }
  // The tensors must tile the data section exactly: no overlaps, no gaps, no trailing bytes.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of sorted) {
    if (e.begin < expected) throw fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (which ends at ${expected})`);
    if (e.begin > expected) throw fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${expected}`);
    expected = e.end;
  }
  if (expected !== available) throw fail(`the tensors cover ${expected} data bytes but the file has ${available}`);

  const tensors: Record<string, LoadedTensor> = {};
  for (const e of entries) {
    // Copy into a fresh buffer: offsets in the file need not be aligned for the type.
    const copy = new ArrayBuffer(e.end - e.begin);
    new Uint8Array(copy).set(file.subarray(dataStart + e.begin, dataStart + e.end));
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: new DTYPES[e.dtype](copy) };
  }
  return { tensors, metadata };
}
