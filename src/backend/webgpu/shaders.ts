// Assembles WGSL modules from the embedded kernel families and names kernel
// variants. A variant is chosen by a prelude of type aliases and constants put
// before the family text (shapes never are: they travel in the parameters).

import type { DType } from '../interface.js';
import { WGSL } from './shaders.generated.js';

/** A family file; schema.wgsl (generated from src/schema.ts) and common.wgsl start every module. */
export type Family = Exclude<keyof typeof WGSL, 'common' | 'schema'>;

/** A pipeline: the families after common.wgsl, their prelude and the entry point. */
export interface Kernel {
  readonly families: readonly Family[];
  readonly prelude: string;
  readonly entry: string;
}

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
  return [k.prelude, WGSL.schema, WGSL.common, ...k.families.map((f) => WGSL[f])].join('\n');
}
