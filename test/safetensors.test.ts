import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { throwsWith } from './helpers.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors, type SafetensorsTensor } from '../src/io/safetensors.js';
import { writeFileAtomic } from '../src/io/atomic.js';

const test = suite('safetensors');
let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'tessera-st-')); });
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A file from a header string and data bytes, exactly as the spec lays it out. */
function handBuilt(header: string, data: number[]): Buffer {
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  return Buffer.concat([length, Buffer.from(header, 'utf8'), Buffer.from(data)]);
}

// F32 [2, 2] = 1, 2, -0.5, 0.25   -> 00 00 80 3f | 00 00 00 40 | 00 00 00 bf | 00 00 80 3e
// I64 [2]    = 7, -1              -> 07 00*7 | ff*8
// U8  [3]    = 1, 2, 255
// BF16 [1]   = 1.0 = 0x3f80       -> 80 3f
const SPEC_HEADER = '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},'
  + '"b":{"dtype":"I64","shape":[2],"data_offsets":[16,32]},"m":{"dtype":"U8","shape":[3],"data_offsets":[32,35]},'
  + '"h":{"dtype":"BF16","shape":[1],"data_offsets":[35,37]}}';
const SPEC_DATA = [
  0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x80, 0x3e,
  0x07, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  1, 2, 255,
  0x80, 0x3f,
];

test('reads a file written byte by byte from the spec (padded and unpadded header)', () => {
  const padding = (8 - (Buffer.byteLength(SPEC_HEADER) % 8)) % 8;
  for (const header of [SPEC_HEADER, SPEC_HEADER + ' '.repeat(padding)]) {
    const path = join(dir, 'spec.safetensors');
    writeFileSync(path, handBuilt(header, SPEC_DATA));
    const { tensors, metadata } = loadSafetensors(path);
    assert.equal(metadata, { format: 'pt' });
    assert.equal(Object.keys(tensors).sort(), ['b', 'h', 'm', 'w']);
    assert.equal(tensors.w.shape, [2, 2]);
    assert.ok(tensors.w.data instanceof Float32Array);
    assert.equal(Array.from(tensors.w.data as Float32Array), [1, 2, -0.5, 0.25]);
    assert.ok(tensors.b.data instanceof BigInt64Array);
    assert.equal(Array.from(tensors.b.data as BigInt64Array), [7n, -1n]);
    assert.equal(Array.from(tensors.m.data as Uint8Array), [1, 2, 255]);
    assert.equal([tensors.h.dtype, Array.from(tensors.h.data as Uint16Array)], ['BF16', [0x3f80]]);
  }
});

test('round trip of every dtype, scalar and empty tensors; the written layout follows the spec', () => {
  const path = join(dir, 'round.safetensors');
  const tensors: Record<string, SafetensorsTensor> = {
    f32: { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 0, 1e-8, -7) },
    f64: { dtype: 'F64', shape: [2], data: Float64Array.of(Math.PI, -1e300) },
    i32: { dtype: 'I32', shape: [3], data: Int32Array.of(-2147483648, 0, 2147483647) },
    i64: { dtype: 'I64', shape: [1], data: BigInt64Array.of(-(2n ** 62n)) },
    u8: { dtype: 'U8', shape: [5], data: Uint8Array.of(0, 1, 2, 254, 255) },
    f16: { dtype: 'F16', shape: [2], data: Uint16Array.of(0x3c00, 0xc000) },
    bf16: { dtype: 'BF16', shape: [1, 1], data: Uint16Array.of(0x3f80) },
    scalar: { dtype: 'F32', shape: [], data: Float32Array.of(42) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    // Raw bytes are accepted for any dtype: 0x40490fdb is float32 pi.
    raw: { dtype: 'F32', shape: [1], data: Uint8Array.of(0xdb, 0x0f, 0x49, 0x40) },
  };
  saveSafetensors(path, tensors, { step: '10', note: 'ünïcode' });
  const loaded = loadSafetensors(path);
  assert.equal(loaded.metadata, { step: '10', note: 'ünïcode' });
  for (const [name, t] of Object.entries(tensors)) {
    const back = loaded.tensors[name];
    assert.is(back.dtype, t.dtype, name);
    assert.equal(back.shape, t.shape, name);
    assert.equal(new Uint8Array(back.data.buffer, back.data.byteOffset, back.data.byteLength), new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), name);
  }
  assert.is((loaded.tensors.raw.data as Float32Array)[0], Math.fround(Math.PI));

  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.is(n % 8, 0, 'header padded to a multiple of 8');
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  assert.ok(/^\{.*\} *$/.test(bytes.subarray(8, 8 + n).toString('utf8')), 'padding is spaces');
  // Every tensor starts aligned to its element size and the tensors tile the data.
  const spans = Object.entries(header).filter(([k]) => k !== '__metadata__')
    .map(([, v]) => (v as { data_offsets: [number, number] }).data_offsets).sort((a, b) => a[0] - b[0]);
  let end = 0;
  for (const [b, e] of spans) { assert.is(b, end); end = e; }
  assert.is(end, bytes.length - 8 - n);
  assert.is(header.f64.data_offsets[0] % 8, 0);
  assert.is(header.i32.data_offsets[0] % 4, 0);
});

test('corrupt or truncated files are rejected with the file name', () => {
  const path = join(dir, 'bad.safetensors');
  const good = handBuilt(SPEC_HEADER, SPEC_DATA);
  const cases: [Buffer, string][] = [
    [good.subarray(0, 5), 'too short for the 8-byte header length'],
    [good.subarray(0, 40), 'exceeds the 32 bytes after the length field'],
    [good.subarray(0, good.length - 1), "tensor 'h': data_offsets [35, 37] run past the 36 data bytes"],
    [Buffer.concat([good, Buffer.from([0])]), 'the tensors cover 37 data bytes but the file has 38'],
    [handBuilt(SPEC_HEADER.replace('"w":', '"w";'), SPEC_DATA), 'header is not valid JSON'],
    [handBuilt('[1, 2]', []), 'header is not valid JSON: does not start with "{"'],
    // b shifted left by 4 keeps its 16-byte size but starts inside w.
    [handBuilt(SPEC_HEADER.replace('[16,32]', '[12,28]'), SPEC_DATA), "tensor 'b': data_offsets [12, 28] overlap the previous tensor (which ends at 16)"],
    [handBuilt(SPEC_HEADER.replace('"shape":[3]', '"shape":[4]'), SPEC_DATA), "tensor 'm': shape [4] of U8 needs 4 bytes, data_offsets [32, 35] span 3"],
    [handBuilt(SPEC_HEADER.replace('"BF16"', '"Q4"'), SPEC_DATA), "tensor 'h': unsupported dtype \"Q4\""],
    [handBuilt(SPEC_HEADER.replace('[2,2]', '[2,-2]'), SPEC_DATA), "tensor 'w': shape [2,-2]"],
    [handBuilt(SPEC_HEADER.replace('[0,16]', '[16,0]'), SPEC_DATA), "tensor 'w': data_offsets [16,0]"],
    [handBuilt(SPEC_HEADER.replace('"pt"', '3'), SPEC_DATA), '__metadata__.format is number'],
    [handBuilt(SPEC_HEADER.replace('"data_offsets":[0,16]}', '"data_offsets":[0,16]},"x":{"dtype":"U8","shape":[0],"data_offsets":[40,40]}'), SPEC_DATA), 'run past'],
  ];
  for (const [bytes, message] of cases) {
    writeFileSync(path, bytes);
    throwsWith(() => loadSafetensors(path), 'loadSafetensors', path, message);
  }
  // A gap: tensors shifted right leave bytes 0..4 unowned.
  writeFileSync(path, handBuilt('{"a":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}', [0, 0, 0, 0, 1, 2]));
  throwsWith(() => loadSafetensors(path), path, "tensor 'a': data_offsets [4, 6] leave a gap after byte 0");
  throwsWith(() => loadSafetensors(join(dir, 'missing.safetensors')), 'missing.safetensors', 'ENOENT');
});

test('a failed save leaves the existing file untouched and no temp files behind', () => {
  const path = join(dir, 'keep.safetensors');
  saveSafetensors(path, { a: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) } });
  const before = readFileSync(path);
  const listing = () => readdirSync(dir).filter((f) => f.includes('keep')).sort();
  throwsWith(() => saveSafetensors(path, {
    a: { dtype: 'F32', shape: [2], data: Float32Array.of(3, 4) },
    b: { dtype: 'F32', shape: [3], data: Float32Array.of(1, 2) },
  }), 'saveSafetensors', path, "tensor 'b': shape [3] of F32 needs 12 bytes, data has 8");
  throwsWith(() => saveSafetensors(path, { a: { dtype: 'F32', shape: [1], data: Int32Array.of(1) } }), "dtype F32 needs a Float32Array or a Uint8Array of raw bytes, got Int32Array");
  throwsWith(() => saveSafetensors(path, { a: { dtype: 'Q4' as 'F32', shape: [1], data: Uint8Array.of(1) } }), "unsupported dtype 'Q4'");
  assert.equal(readFileSync(path), before);
  assert.equal(listing(), ['keep.safetensors']);

  // A write that fails midway (the chunk source throws after the first chunk
  // has reached the temp file) must not touch the target either.
  function* failing(): Generator<Uint8Array> {
    yield Uint8Array.of(1, 2, 3);
    throw new Error('disk on fire');
  }
  throwsWith(() => writeFileAtomic(path, failing()), `cannot write ${path}`, 'disk on fire');
  assert.equal(readFileSync(path), before);
  assert.equal(listing(), ['keep.safetensors']);
  assert.equal(Array.from((loadSafetensors(path).tensors.a.data as Float32Array)), [1, 2]);
});

test.run();
