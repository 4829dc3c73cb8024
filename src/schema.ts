// Op codes and kernel parameter records, defined once for every backend. `npm run gen:schema`
// (scripts/schema-emit.ts) writes from this file the C header kernels/schema.h (cpu addon,
// CUDA), the WGSL constants and uniform structs kernels/wgsl/schema.wgsl, and the ctypes mirror
// bench/device/schema.py; test/schema.test.ts fails when a committed copy is stale.
// Imports nothing: every layer, backends included, sits above it.

/** An op-code list: a name's code is its index. C spells the codes `${cPrefix}NAME` (camelCase
 *  turned into SNAKE_CASE) in `enum ${cType}`, closed by `cCount` when given; WGSL as
 *  `${wgslPrefix}NAME` when the shaders use them; Python lists them as `py`. */
export interface CodeList {
  readonly names: readonly string[];
  readonly cType: string;
  readonly cPrefix: string;
  readonly cCount?: string;
  readonly wgslPrefix?: string;
  readonly py: string;
}

export const CODES = {
  dtype: { names: ['float32', 'int32'], cType: 'tsr_dtype', cPrefix: 'TSR_', py: 'DTYPE' },
  // leakyRelu and elu read `alpha`; gelu is the exact erf form (torch's default), geluGrad its derivative.
  // round is half to even (torch.round); isnan, isinf and isfinite give 0/1 like the comparisons.
  unary: {
    names: ['neg', 'exp', 'log', 'log1p', 'sqrt', 'rsqrt', 'abs', 'sign', 'tanh', 'sigmoid', 'relu', 'leakyRelu',
      'elu', 'gelu', 'geluGrad', 'softplus', 'sin', 'cos', 'square', 'reciprocal', 'floor',
      'silu', 'mish', 'hardswish', 'logSigmoid', 'erf', 'atan', 'ceil', 'round', 'trunc', 'lgamma', 'digamma', 'trigamma',
      'isnan', 'isinf', 'isfinite'],
    cType: 'tsr_unary_op', cPrefix: 'TSR_', cCount: 'TSR_UNARY_OP_COUNT', wgslPrefix: 'UNARY_', py: 'UNARY',
  },
  // remainder takes the divisor's sign (torch.remainder); floorDivide rounds the quotient down (torch.floor_divide).
  binary: {
    names: ['add', 'sub', 'mul', 'div', 'pow', 'minimum', 'maximum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
      'remainder', 'floorDivide', 'atan2'],
    cType: 'tsr_binary_op', cPrefix: 'TSR_', cCount: 'TSR_BINARY_OP_COUNT', wgslPrefix: 'BINARY_', py: 'BINARY',
  },
  reduce: {
    names: ['sum', 'prod', 'max', 'min', 'argmax', 'argmin'],
    cType: 'tsr_reduce_op', cPrefix: 'TSR_', cCount: 'TSR_REDUCE_OP_COUNT', wgslPrefix: 'REDUCE_', py: 'REDUCE',
  },
  /** The GEMM epilogue's activation. */
  activation: {
    names: ['none', 'relu', 'gelu', 'tanh', 'sigmoid'],
    cType: 'tsr_activation', cPrefix: 'TSR_ACT_', cCount: 'TSR_ACT_COUNT', wgslPrefix: 'ACT_', py: 'ACTIVATION',
  },
  /** How matmul and conv multiply: exact float32, or tensor cores with operands rounded to TF32 or
   *  BF16 (float32 accumulation). Backends without tensor cores compute float32 whatever it says. */
  precision: {
    names: ['float32', 'tf32', 'bf16'],
    cType: 'tsr_precision', cPrefix: 'TSR_PRECISION_', cCount: 'TSR_PRECISION_COUNT', py: 'PRECISION',
  },
  /** The activation batch normalization's fused kernels apply last (silu(z) = z * sigmoid(z)). */
  normActivation: {
    names: ['none', 'relu', 'silu'],
    cType: 'tsr_norm_activation', cPrefix: 'TSR_NORM_ACT_', cCount: 'TSR_NORM_ACT_COUNT', wgslPrefix: 'NORM_ACT_', py: 'NORM_ACTIVATION',
  },
} as const satisfies Record<string, CodeList>;

export type CodeListName = keyof typeof CODES;
export type CodeName<L extends CodeListName> = (typeof CODES)[L]['names'][number];

/** The code of `name` in list `list`. */
export function codeOf<L extends CodeListName>(list: L, name: CodeName<L>): number {
  const code = (CODES[list].names as readonly string[]).indexOf(name);
  if (code < 0) throw new Error(`unknown ${list} code '${String(name)}'`);
  return code;
}

/** A record field. In C every number is one 8-byte slot (int64_t, double or a pointer), so the
 *  structs have no padding to mirror.
 *  - int: int64_t; WGSL i32.        - float: double; WGSL f32.
 *  - int3: three ints; named `parts` in TS and C when given, else the array `name[3]`; WGSL vec3<i32>.
 *  - code: an index into CODES[codes]; TS the name, C int64_t, WGSL u32.
 *  - buffer: a float32 buffer or none; TS optional, C `const float*`, WGSL a u32 `has_<name>` flag
 *    (the buffer itself is bound beside the record). */
export interface Field {
  readonly name: string;
  readonly type: 'int' | 'int3' | 'float' | 'code' | 'buffer';
  readonly parts?: readonly [string, string, string];
  readonly codes?: CodeListName;
  /** Set by the backend (from the views, or its own setting), not by the op: absent from the op's params type. */
  readonly backend?: true;
  /** Absent from the WGSL struct (no shader reads it). */
  readonly gpu?: false;
  readonly doc?: string;
}

export interface RecordDef {
  readonly doc: string;
  readonly fields: readonly Field[];
}

/** A record's C struct is `tsr_${key}_params`, its WGSL struct and Python class `${Key}Params`. */
export const RECORDS = {
  matmul: {
    doc: 'out = act(alpha * a @ b + bias): a is [batch, M, K] and b [batch, K, N] through their strides ' +
      '(batch strides may be 0); out is dense [batch, M, N]',
    fields: [
      { name: 'batch', type: 'int' },
      { name: 'M', type: 'int' },
      { name: 'N', type: 'int' },
      { name: 'K', type: 'int' },
      { name: 'a_strides', type: 'int3', backend: true, doc: 'batch, row, column' },
      { name: 'a_offset', type: 'int', backend: true },
      { name: 'b_strides', type: 'int3', backend: true, doc: 'batch, row, column' },
      { name: 'b_offset', type: 'int', backend: true },
      { name: 'alpha', type: 'float' },
      { name: 'bias', type: 'buffer', doc: 'dense [N]' },
      { name: 'act', type: 'code', codes: 'activation' },
      { name: 'precision', type: 'code', codes: 'precision', backend: true, gpu: false },
    ],
  },
  conv: {
    doc: 'NCDHW convolution; conv2d is D = 1, kd = 1 with depth stride, padding, dilation 1, 0, 1. ' +
      'x [N, C, D, H, W], w [O, C/groups, kd, kh, kw], out [N, O, oD, oH, oW], all dense',
    fields: [
      { name: 'N', type: 'int' },
      { name: 'C', type: 'int' },
      { name: 'input', type: 'int3', parts: ['D', 'H', 'W'] },
      { name: 'O', type: 'int' },
      { name: 'kernel', type: 'int3', parts: ['kd', 'kh', 'kw'] },
      { name: 'stride', type: 'int3' },
      { name: 'padding', type: 'int3' },
      { name: 'dilation', type: 'int3' },
      { name: 'groups', type: 'int' },
      { name: 'output', type: 'int3', parts: ['oD', 'oH', 'oW'] },
      { name: 'precision', type: 'code', codes: 'precision', backend: true, gpu: false },
    ],
  },
  pool: {
    doc: 'NCDHW max / average pooling: x [N, C, D, H, W], out [N, C, oD, oH, oW] (ceil mode is in the output size)',
    fields: [
      { name: 'N', type: 'int' },
      { name: 'C', type: 'int' },
      { name: 'input', type: 'int3', parts: ['D', 'H', 'W'] },
      { name: 'kernel', type: 'int3', parts: ['kd', 'kh', 'kw'] },
      { name: 'stride', type: 'int3' },
      { name: 'padding', type: 'int3' },
      { name: 'output', type: 'int3', parts: ['oD', 'oH', 'oW'] },
      { name: 'dilation', type: 'int3', doc: 'max pooling: tap t of a window at start + t dilation; 1 for average pooling' },
      { name: 'count_include_pad', type: 'int', doc: 'average pooling: 1 divides by the window cut at the padded input end, 0 by its cells inside the input' },
    ],
  },
  lstm: {
    doc: 'One LSTM layer-direction run over T steps (gate order i, f, g, o as torch): gatesIn and gates [T, B, 4H], ' +
      'states [2, T, B, H] (h then c at every time), weightHh [4H, H], h0 and c0 [B, H], all dense',
    fields: [
      { name: 'T', type: 'int' },
      { name: 'B', type: 'int' },
      { name: 'H', type: 'int' },
      { name: 'reverse', type: 'int', doc: '1: step k visits time T - 1 - k (the reverse direction of a bidirectional layer)' },
    ],
  },
  adam: {
    doc: 'One Adam / AdamW step (torch.optim.Adam, AdamW) in place over n elements: param, expAvg and expAvgSq ' +
      'are read and rewritten, grad is read; all dense. The host folds the step count into step_size and ' +
      'bias_correction2_sqrt',
    fields: [
      { name: 'n', type: 'int', gpu: false, doc: 'the WGSL kernel reads its count from P[0]' },
      { name: 'lr', type: 'float' },
      { name: 'beta1', type: 'float' },
      { name: 'beta2', type: 'float' },
      { name: 'eps', type: 'float' },
      { name: 'weight_decay', type: 'float' },
      { name: 'decoupled', type: 'int', doc: '1: AdamW (param *= 1 - lr weight_decay first); 0: Adam (grad += weight_decay param)' },
      { name: 'step_size', type: 'float', doc: 'lr / (1 - beta1^t) at step t' },
      { name: 'bias_correction2_sqrt', type: 'float', doc: 'sqrt(1 - beta2^t) at step t' },
    ],
  },
  sgd: {
    doc: 'One SGD step with momentum (torch.optim.SGD) in place over n elements: param and the momentum ' +
      'buffer are read and rewritten, grad is read; all dense',
    fields: [
      { name: 'n', type: 'int', gpu: false, doc: 'the WGSL kernel reads its count from P[0]' },
      { name: 'lr', type: 'float' },
      { name: 'weight_decay', type: 'float' },
      { name: 'momentum', type: 'float' },
      { name: 'dampening', type: 'float' },
      { name: 'nesterov', type: 'int', doc: '1: the step is d + momentum buf instead of buf' },
      { name: 'first', type: 'int', doc: '1: the buffer holds nothing yet and becomes d (torch\'s first step), undamped' },
    ],
  },
  batchnorm: {
    doc: 'Batch normalization with batch statistics over channel axis 1 of x dense [outer, channels, inner]: ' +
      'z = (x - mean) / sqrt(var + eps) * weight + bias (+ addend), out = act(z); weight, bias [channels]',
    fields: [
      { name: 'shape', type: 'int3', parts: ['outer', 'channels', 'inner'] },
      { name: 'eps', type: 'float' },
      { name: 'act', type: 'code', codes: 'normActivation' },
    ],
  },
} as const satisfies Record<string, RecordDef>;

export type RecordName = keyof typeof RECORDS;

// ---- the TypeScript shapes of a record (B: the backend's buffer type) ----

type Fields<R extends RecordName> = (typeof RECORDS)[R]['fields'][number];
type Flatten<T> = { -readonly [K in keyof T]: T[K] };
type Triple = [number, number, number];
type PartsOf<F> = F extends { parts: readonly (infer P extends string)[] } ? P : never;
type ValueOf<F> = F extends { type: 'int3' } ? Triple
  : F extends { codes: infer L extends CodeListName } ? CodeName<L> : number;
type BackendKeys<F> = F extends { backend: true } ? (F extends { parts: readonly string[] } ? PartsOf<F> : F extends { name: infer N } ? N : never) : never;

/** Every field of record R, as a backend hands it to a packer. */
export type RecordValues<R extends RecordName, B> = Flatten<
  { [F in Fields<R> as F extends { parts: readonly string[] } | { type: 'buffer' } ? never : F['name']]: ValueOf<F> }
  & { [F in Fields<R> as F extends { type: 'buffer' } ? F['name'] : never]?: B }
  & { [P in PartsOf<Fields<R>>]: number }>;

/** Record R as an op fills it: without the fields the backend sets. */
export type OpParams<R extends RecordName, B> = Flatten<Omit<RecordValues<R, B>, BackendKeys<Fields<R>>>>;

// ---- layouts and packers ----

/** One 8-byte C slot: 'i' int64_t, 'f' double, 'p' pointer. */
export type SlotKind = 'i' | 'f' | 'p';

/** The C slots of a record in memory order (a triple takes three). */
export function cSlots(def: RecordDef): SlotKind[] {
  return def.fields.flatMap((f): SlotKind[] =>
    f.type === 'int3' ? ['i', 'i', 'i'] : [f.type === 'float' ? 'f' : f.type === 'buffer' ? 'p' : 'i']);
}

type Values = Readonly<Record<string, unknown>>;

function numberField(record: string, values: Values, key: string): number {
  const v = values[key];
  if (typeof v !== 'number') throw new Error(`${record} record: field ${key} must be a number, got ${String(v)}`);
  return v;
}

/** Writes the numbers of field f into out from `at` (three for a triple, a code's index, 1 or 0 for a
 *  buffer's presence); returns where the next field starts. */
function writeField(recordName: string, f: Field, values: Values, out: Float64Array | number[], at: number): number {
  if (f.parts) {
    for (const part of f.parts) out[at++] = numberField(recordName, values, part);
    return at;
  }
  const v = values[f.name];
  switch (f.type) {
    case 'int3':
      if (!Array.isArray(v) || v.length !== 3 || typeof v[0] !== 'number' || typeof v[1] !== 'number' || typeof v[2] !== 'number') {
        throw new Error(`${recordName} record: field ${f.name} must be 3 numbers, got ${String(v)}`);
      }
      out[at] = v[0]; out[at + 1] = v[1]; out[at + 2] = v[2];
      return at + 3;
    case 'code': out[at] = codeOf(f.codes!, v as never); return at + 1;
    case 'buffer': out[at] = v === undefined || v === null ? 0 : 1; return at + 1;
    default: out[at] = numberField(recordName, values, f.name); return at + 1;
  }
}

/** How many C slots record `def` takes (a triple takes three). */
export function slotCount(def: RecordDef): number {
  let n = 0;
  for (const f of def.fields) n += f.type === 'int3' ? 3 : 1;
  return n;
}

/**
 * Record R in C slot order, one double per slot (how the cpu addon takes it; pointers travel beside, their slot
 * holds 1 when present). With `out` (slotCount long) the slots are written there and it is returned: the cpu
 * backend reuses one array per record for every call, since the addon copies the record before it returns,
 * and a fresh Float64Array per kernel call was a large part of a small matmul's JS time.
 */
export function packSlots<R extends RecordName, B>(name: R, values: RecordValues<R, B>, out?: Float64Array): Float64Array {
  const def: RecordDef = RECORDS[name];
  const n = slotCount(def);
  if (out && out.length !== n) throw new Error(`${name} record: ${n} slots, got an array of ${out.length}`);
  const slots = out ?? new Float64Array(n);
  let at = 0;
  for (const f of def.fields) at = writeField(name, f, values as Values, slots, at);
  return slots;
}

/** A member of a WGSL uniform struct. */
export interface WgslMember {
  readonly field: Field;
  readonly name: string;
  readonly type: 'i32' | 'u32' | 'f32' | 'vec3<i32>';
  readonly offset: number;
}

const WGSL_ALIGN = { 'i32': 4, 'u32': 4, 'f32': 4, 'vec3<i32>': 16 } as const;
const WGSL_SIZE = { 'i32': 4, 'u32': 4, 'f32': 4, 'vec3<i32>': 12 } as const;

/** The WGSL struct of a record under the uniform layout rules: a member sits at the next multiple of
 *  its alignment (vec3: 16), the struct size rounds up to its largest alignment. */
export function wgslLayout(def: RecordDef): { members: WgslMember[]; size: number } {
  const members: WgslMember[] = [];
  let end = 0;
  for (const field of def.fields) {
    if (field.gpu === false) continue;
    const type = field.type === 'int3' ? 'vec3<i32>' : field.type === 'int' ? 'i32' : field.type === 'float' ? 'f32' : 'u32';
    const offset = Math.ceil(end / WGSL_ALIGN[type]) * WGSL_ALIGN[type];
    members.push({ field, name: field.type === 'buffer' ? `has_${field.name}` : field.name, type, offset });
    end = offset + WGSL_SIZE[type];
  }
  // Uniform structs take whole 16-byte slots (a record of scalars only, such as sgd's 6 words, would end mid-slot).
  return { members, size: Math.ceil(end / 16) * 16 };
}

const wgslLayouts = new Map<RecordName, ReturnType<typeof wgslLayout>>();

/** Record R as the bytes of its WGSL uniform struct. */
export function packWgsl<R extends RecordName, B>(name: R, values: RecordValues<R, B>): ArrayBuffer {
  let layout = wgslLayouts.get(name);
  if (!layout) { layout = wgslLayout(RECORDS[name]); wgslLayouts.set(name, layout); }
  const bytes = new ArrayBuffer(layout.size);
  const view = new DataView(bytes);
  for (const m of layout.members) {
    const numbers: number[] = [];
    writeField(name, m.field, values as Values, numbers, 0);
    numbers.forEach((v, i) => {
      const at = m.offset + 4 * i;
      if (m.type === 'f32') { view.setFloat32(at, v, true); return; }
      const [lo, hi] = m.type === 'u32' ? [0, 0xffffffff] : [-0x80000000, 0x7fffffff];
      if (!Number.isInteger(v) || v < lo || v > hi) {
        throw new Error(`${name} record: ${m.name} = ${v} does not fit the shaders' ${m.type === 'u32' ? 'u32' : 'i32'}`);
      }
      if (m.type === 'u32') view.setUint32(at, v, true); else view.setInt32(at, v, true);
    });
  }
  return bytes;
}
