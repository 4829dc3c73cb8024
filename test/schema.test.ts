// The schema (src/schema.ts) and what is generated from it: the committed kernels/schema.h,
// kernels/wgsl/schema.wgsl and bench/device/schema.py must equal a fresh generation (else run
// `npm run gen:schema`), the loaded addon must have been built from the same schema, and the
// record layouts must follow the C and WGSL rules the generated declarations rely on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODES, RECORDS, cSlots, packSlots, packWgsl, wgslLayout } from '../src/schema.js';
import { generatedFiles } from '../scripts/schema-emit.js';
import { loadAddon } from '../src/backend/cpu/addon.js';
import { schemaMismatch } from '../src/backend/cpu/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url)); // dist/test/ -> the repository
const ci = process.env.CI === 'true';

test('the committed generated files equal a fresh generation', () => {
  for (const [path, text] of generatedFiles()) {
    const committed = readFileSync(join(root, path), 'utf8');
    assert.ok(committed === text, `${path} is stale: run npm run gen:schema`);
  }
});

test('the native addon was built from this schema', () => {
  const { addon, error } = loadAddon();
  if (!addon) {
    if (ci) assert.unreachable(error);
    console.log(`  (skipped: ${error})`);
    return;
  }
  assert.equal(schemaMismatch(addon.schema), undefined);
  assert.equal(addon.schema.codes.unary, CODES.unary.names);
  assert.match(schemaMismatch({ ...addon.schema, codes: { ...addon.schema.codes, unary: ['neg'] } }) ?? '',
    /other unary codes than src\/schema.ts; rebuild/);
});

test('op names are unique camelCase identifiers in every list', () => {
  for (const [list, { names }] of Object.entries(CODES)) {
    assert.equal(new Set(names).size, names.length, `${list} has a duplicate`);
    for (const name of names) assert.match(name, /^[a-z][a-zA-Z0-9]*$/, `${list} '${name}'`);
  }
});

test('packSlots writes one number per C slot, in field order', () => {
  const conv = { N: 2, C: 4, D: 1, H: 9, W: 11, O: 6, kd: 1, kh: 3, kw: 3, stride: [1, 2, 2] as [number, number, number],
    padding: [0, 1, 1] as [number, number, number], dilation: [1, 1, 2] as [number, number, number], groups: 2,
    oD: 1, oH: 5, oW: 5, precision: 'bf16' as const };
  assert.equal(Array.from(packSlots('conv', conv)),
    [2, 4, 1, 9, 11, 6, 1, 3, 3, 1, 2, 2, 0, 1, 1, 1, 1, 2, 2, 1, 5, 5, 2]);
  for (const [name, def] of Object.entries(RECORDS)) {
    assert.equal(cSlots(def).length, def.fields.reduce((n, f) => n + (f.type === 'int3' ? 3 : 1), 0), name);
  }
  const matmul = packSlots('matmul', { batch: 1, M: 2, N: 3, K: 4, a_strides: [0, 4, 1], a_offset: 5, b_strides: [0, 3, 1],
    b_offset: 0, alpha: 0.5, bias: {}, act: 'gelu', precision: 'float32' });
  assert.equal(Array.from(matmul), [1, 2, 3, 4, 0, 4, 1, 5, 0, 3, 1, 0, 0.5, 1, 2, 0]);
  assert.throws(() => packSlots('pool', { N: 1 } as never), /pool record: field C must be a number/);
});

test('WGSL records follow the uniform layout rules', () => {
  for (const [name, def] of Object.entries(RECORDS)) {
    const { members, size } = wgslLayout(def);
    let end = 0;
    for (const m of members) {
      const [align, bytes] = m.type === 'vec3<i32>' ? [16, 12] : [4, 4];
      assert.ok(m.offset % align === 0 && m.offset >= end, `${name}.${m.name} at ${m.offset}`);
      end = m.offset + bytes;
    }
    assert.ok(size >= end && size % 16 === 0, `${name}: size ${size}`);
    assert.ok(members.every((m) => m.field.gpu !== false), name);
  }
  const pool = { N: 2, C: 3, D: 1, H: 8, W: 7, kd: 1, kh: 2, kw: 2, stride: [1, 2, -2] as [number, number, number],
    padding: [0, 1, 1] as [number, number, number], oD: 1, oH: 5, oW: 4, dilation: [1, 1, 2] as [number, number, number], count_include_pad: 1 };
  const words = new Int32Array(packWgsl('pool', pool));
  // N, C, then input / kernel / stride / padding / output / dilation each at a 16-byte boundary; count_include_pad
  // fills the 4th word of dilation's vec3 slot.
  assert.equal(Array.from(words), [2, 3, 0, 0, 1, 8, 7, 0, 1, 2, 2, 0, 1, 2, -2, 0, 0, 1, 1, 0, 1, 5, 4, 0, 1, 1, 2, 1]);
  assert.throws(() => packWgsl('pool', { ...pool, N: 2 ** 31 }), /pool record: N = 2147483648 does not fit/);
  const matmul = new DataView(packWgsl('matmul', { batch: 1, M: 2, N: 3, K: 4, a_strides: [0, 4, 1], a_offset: 5,
    b_strides: [0, 3, 1], b_offset: 0, alpha: 0.5, act: 'sigmoid', precision: 'tf32' }));
  assert.equal([matmul.getFloat32(48, true), matmul.getUint32(52, true), matmul.getUint32(56, true)], [0.5, 0, 4]);
});

test('the C header compiles as plain C and its structs have the slots the addon unpacks', () => {
  const cc = spawnSync('cc', ['--version']);
  if (cc.status !== 0) { console.log('  (skipped: no C compiler)'); return; }
  // The header's own typedef checks fail to compile when a struct's size differs from its slots.
  execFileSync('cc', ['-std=c99', '-Wall', '-Wextra', '-Werror', '-fsyntax-only', '-x', 'c', join(root, 'kernels/schema.h')]);
});

test('the Python mirror has the C structs\' sizes and the code lists', () => {
  const python = spawnSync('python3', ['--version']);
  if (python.status !== 0) { console.log('  (skipped: no python3)'); return; }
  const script = 'import json, ctypes, sys; sys.path.insert(0, sys.argv[1]); import schema as s; print(json.dumps({' +
    `'sizes': {k: ctypes.sizeof(getattr(s, k.capitalize() + 'Params')) for k in (${Object.keys(RECORDS).map((k) => `'${k}'`).join(', ')},)},` +
    "'unary': s.UNARY, 'relu': s.UNARY_CODE['relu'], 'float32': s.FLOAT32}))";
  const out = JSON.parse(execFileSync('python3', ['-B', '-c', script, join(root, 'bench/device')], { encoding: 'utf8' }));
  for (const [name, def] of Object.entries(RECORDS)) assert.equal(out.sizes[name], 8 * cSlots(def).length, name);
  assert.equal(out.unary, CODES.unary.names);
  assert.equal([out.relu, out.float32], [CODES.unary.names.indexOf('relu'), 0]);
});

test.run();
