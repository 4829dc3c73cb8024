// Assembles WGSL modules from the embedded kernel families and names kernel
// variants. A variant is chosen by a prelude of type aliases and constants put
// before the family text (shapes never are: they travel in the parameters).

import type { BinaryOp, DType, ReduceOp, UnaryOp } from '../interface.js';
import { WGSL } from './shaders.generated.js';

export type Family = Exclude<keyof typeof WGSL, 'common'>;

/** A pipeline: the families after common.wgsl, their prelude and the entry point. */
export interface Kernel {
  readonly families: readonly Family[];
  readonly prelude: string;
  readonly entry: string;
}

// Op codes shared with the shaders, which refer to them by name
// (UNARY_LEAKY_RELU, ...). 'identity' is the "no activation" epilogue.
export const UNARY_CODES: Readonly<Record<UnaryOp | 'identity', number>> = {
  neg: 0, exp: 1, log: 2, log1p: 3, sqrt: 4, rsqrt: 5, abs: 6, sign: 7, tanh: 8, sigmoid: 9,
  relu: 10, leakyRelu: 11, elu: 12, gelu: 13, geluGrad: 14, softplus: 15, sin: 16, cos: 17,
  square: 18, reciprocal: 19, floor: 20, identity: 21,
};
export const BINARY_CODES: Readonly<Record<BinaryOp, number>> = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, minimum: 5, maximum: 6,
  eq: 7, ne: 8, lt: 9, le: 10, gt: 11, ge: 12,
};
export const REDUCE_CODES: Readonly<Record<ReduceOp, number>> = {
  sum: 0, prod: 1, max: 2, min: 3, argmax: 4, argmin: 5,
};

const constantName = (prefix: string, op: string): string =>
  `${prefix}_${op.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

const codeDeclarations = (prefix: string, codes: Readonly<Record<string, number>>): string =>
  Object.entries(codes).map(([op, code]) => `const ${constantName(prefix, op)}: u32 = ${code}u;`).join('\n');

const OP_CODE_DECLARATIONS = [
  codeDeclarations('UNARY', UNARY_CODES),
  codeDeclarations('BINARY', BINARY_CODES),
  codeDeclarations('REDUCE', REDUCE_CODES),
].join('\n');

export function wgslType(dtype: DType): 'f32' | 'i32' {
  return dtype === 'float32' ? 'f32' : 'i32';
}

/** Prelude text: `alias` lines for WGSL types, `const` lines for numbers and booleans. */
export function prelude(aliases: Readonly<Record<string, DType>>,
  constants: Readonly<Record<string, number | boolean>> = {}): string {
  const lines = Object.entries(aliases).map(([name, dtype]) => `alias ${name} = ${wgslType(dtype)};`);
  for (const [name, value] of Object.entries(constants)) {
    lines.push(typeof value === 'boolean' ? `const ${name} = ${value};` : `const ${name}: u32 = ${value}u;`);
  }
  return lines.join('\n');
}

export function kernelKey(k: Kernel): string {
  return `${k.families.join('+')}:${k.entry}\n${k.prelude}`;
}

export function moduleSource(k: Kernel): string {
  return [k.prelude, OP_CODE_DECLARATIONS, WGSL.common, ...k.families.map((f) => WGSL[f])].join('\n');
}
