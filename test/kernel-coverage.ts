// Which kernels of the Backend interface lack a CUDA or WGSL version or a
// device check, read from the sources themselves (test/coverage.test.ts).
// A kernel is a method of `interface Backend` (src/backend/interface.ts)
// after its storage methods; the cpu and reference backends implement all of
// them (tsc checks that). For each one:
//  - CUDA: CudaBackend's method calls the addon's cuda<Method>; the kernel
//    table of native/cuda/binding.cc has a row for the method, which calls
//    tsr_cuda_* functions declared in kernels/cuda/capi.h and defined in a
//    kernels/cuda/*.cu;
//  - device check: bench/device/check_and_bench.py calls each of those C
//    functions from a @check function and from a @bench function;
//  - WGSL: WebGpuBackend's method (or a private helper it calls) names the
//    entry point of a @compute function of kernels/wgsl/*.wgsl.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Kernels with no CUDA version yet (README's status section names them). */
export const PENDING_ON_CUDA: readonly string[] = [];

export interface KernelSources {
  iface: string;
  cudaBackend: string;
  binding: string;
  capi: string;
  cu: Readonly<Record<string, string>>;
  webgpuBackend: string;
  wgsl: Readonly<Record<string, string>>;
  deviceChecks: string;
}

export function readKernelSources(root: string): KernelSources {
  const read = (path: string): string => readFileSync(join(root, path), 'utf8');
  const folder = (dir: string, ext: string): Record<string, string> => Object.fromEntries(
    readdirSync(join(root, dir)).filter((f) => f.endsWith(ext)).map((f) => [f, read(join(dir, f))]));
  return {
    iface: read('src/backend/interface.ts'),
    cudaBackend: read('src/backend/cuda/index.ts'),
    binding: read('native/cuda/binding.cc'),
    capi: read('kernels/cuda/capi.h'),
    cu: folder('kernels/cuda', '.cu'),
    webgpuBackend: read('src/backend/webgpu/index.ts'),
    wgsl: folder('kernels/wgsl', '.wgsl'),
    deviceChecks: read('bench/device/check_and_bench.py'),
  };
}

/** The kernel methods of `interface Backend`: those after its storage section. */
export function kernelMethods(iface: string): string[] {
  const body = /export interface Backend \{([\s\S]*?)\n\}/.exec(iface)?.[1] ?? '';
  const kernels = body.slice(body.indexOf('// ---- core kernels ----'));
  return [...kernels.matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1]);
}

/** Method name -> its text, for a class whose methods are indented two spaces. */
function methods(classSource: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = classSource.split(/^(?= {2}(?:private |async |static )*\w+\()/m);
  for (const part of parts) {
    const name = /^ {2}(?:private |async |static )*(\w+)\(/.exec(part)?.[1];
    if (name && !out.has(name)) out.set(name, part);
  }
  return out;
}

function classBody(source: string, name: string): string {
  const start = source.indexOf(`export class ${name} `);
  if (start < 0) return '';
  const end = source.indexOf('\n}\n', start);
  return source.slice(start, end < 0 ? undefined : end);
}

/** The text of the `starts` definitions and of every definition they reach through calls that
 *  `calls` matches (its group 1 names the callee). */
function reach(defs: Map<string, string>, starts: readonly string[], calls: RegExp): string {
  const seen = new Set(starts);
  const queue = [...starts];
  let text = '';
  while (queue.length > 0) {
    const body = defs.get(queue.pop()!) ?? '';
    text += body;
    for (const m of body.matchAll(calls)) {
      if (defs.has(m[1]) && !seen.has(m[1])) { seen.add(m[1]); queue.push(m[1]); }
    }
  }
  return text;
}

/** Row name -> row text of binding.cc's kernel table, following a row that names a function. */
function bindingRows(binding: string): Map<string, string> {
  const table = /const Entry kKernels\[\] = \{([\s\S]*?)\n\};/.exec(binding)?.[1] ?? '';
  const rows = new Map<string, string>();
  for (const part of table.split(/^(?= {4}\{")/m)) {
    const m = /^ {4}\{"(\w+)",\s*(\w+)?/.exec(part);
    if (!m) continue;
    const named = m[2] ? new RegExp(`\\n[\\w:]+ ${m[2]}\\(Args& a\\) \\{[\\s\\S]*?\\n\\}\\n`).exec(binding)?.[0] : undefined;
    rows.set(m[1], named ?? part);
  }
  return rows;
}

/** The C functions (without tsr_cuda_) that top-level Python functions decorated with `@kind(...)`
 *  call as `lib.<name>(`, directly or through other top-level functions. */
function pythonCallers(source: string, kind: 'check' | 'bench'): Set<string> {
  const chunks = source.split(/^(?=\S)/m);
  const defs = new Map<string, string>();
  let decorator = '';
  const decorated: string[] = [];
  for (const chunk of chunks) {
    if (chunk.startsWith('@')) { decorator += chunk; continue; }
    const name = /^def (\w+)\(/.exec(chunk)?.[1];
    if (name) {
      defs.set(name, chunk);
      if (new RegExp(`^@${kind}\\(`, 'm').test(decorator)) decorated.push(name);
    }
    decorator = '';
  }
  const text = reach(defs, decorated, /(?<![.\w])(\w+)\(/g);
  return new Set([...text.matchAll(/\blib\.(\w+)\(/g)].map((m) => m[1]));
}

/** Every gap, one line each; empty when every kernel has all its versions and checks. */
export function coverageGaps(s: KernelSources): string[] {
  const gaps: string[] = [];
  const kernels = kernelMethods(s.iface);
  if (kernels.length < 10) gaps.push(`interface.ts: found only ${kernels.length} kernel methods (${kernels.join(', ')})`);
  const cuda = methods(classBody(s.cudaBackend, 'CudaBackend'));
  const rows = bindingRows(s.binding);
  const checked = pythonCallers(s.deviceChecks, 'check'), benched = pythonCallers(s.deviceChecks, 'bench');
  const webgpu = methods(classBody(s.webgpuBackend, 'WebGpuBackend'));
  const entries = new Set<string>();
  for (const text of Object.values(s.wgsl)) {
    for (const m of text.matchAll(/@compute[^\n]*\n(?:@[^\n]*\n)*fn (\w+)\(/g)) entries.add(m[1]);
  }
  for (const k of kernels) {
    const addonFn = `cuda${k[0].toUpperCase()}${k.slice(1)}`;
    if (!cuda.get(k)?.includes(`this.addon.${addonFn}(`)) gaps.push(`${k}: CudaBackend.${k} does not call addon.${addonFn}`);
    const row = rows.get(k);
    if (!row) gaps.push(`${k}: no row "${k}" in the kernel table of native/cuda/binding.cc`);
    const cFunctions = [...new Set([...(row ?? '').matchAll(/\btsr_cuda_(\w+)\b/g)].map((m) => m[1]))];
    if (row && cFunctions.length === 0) gaps.push(`${k}: its binding row calls no tsr_cuda_* function`);
    for (const f of cFunctions) {
      if (!new RegExp(`\\btsr_cuda_${f}\\(`).test(s.capi)) gaps.push(`${k}: tsr_cuda_${f} is not declared in kernels/cuda/capi.h`);
      if (!Object.values(s.cu).some((t) => new RegExp(`^(?:extern "C" )?int tsr_cuda_${f}\\(`, 'm').test(t))) {
        gaps.push(`${k}: tsr_cuda_${f} is defined in no kernels/cuda/*.cu`);
      }
      if (!checked.has(f)) gaps.push(`${k}: bench/device/check_and_bench.py has no @check calling lib.${f}`);
      if (!benched.has(f)) gaps.push(`${k}: bench/device/check_and_bench.py has no @bench calling lib.${f}`);
    }
    if (!webgpu.has(k)) {
      gaps.push(`${k}: WebGpuBackend has no method ${k}`);
    } else {
      const literals = [...reach(webgpu, [k], /this\.(\w+)\(/g).matchAll(/'(\w+)'/g)].map((m) => m[1]);
      if (!literals.some((l) => entries.has(l))) gaps.push(`${k}: WebGpuBackend.${k} names no @compute entry point of kernels/wgsl`);
    }
  }
  return gaps;
}
