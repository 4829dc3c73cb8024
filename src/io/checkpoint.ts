// Checkpoints of modules and optimizers as safetensors files (written
// atomically by saveSafetensors). Loading validates the whole file against the
// target first and reports every mismatch in one error; the target changes
// only when everything fits.
import { createHash } from 'node:crypto';
import { Tensor } from '../tensor.js';
import type { DType } from '../backend/interface.js';
import { noGrad } from '../autograd.js';
import { fromArray } from '../ops/creation.js';
import { checkOptions } from '../ops/util.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/schedulers.js';
import { loadSafetensors, readSafetensors, saveSafetensors, type SafetensorsContents, type SafetensorsDType, type SafetensorsTensor } from './safetensors.js';

// Metadata keys under this prefix are written by Tessera; users' keys may not use it.
const RESERVED = 'tessera.';
const KIND = 'tessera.kind';
// SHA-256 of every tensor (name, dtype, shape, bytes, in name order). It lives in the metadata, so other
// safetensors readers still load the file; a file without it (written elsewhere) loads unverified.
const CHECKSUM = 'tessera.sha256';

const FILE_DTYPE: Record<DType, SafetensorsDType> = { float32: 'F32', int32: 'I32' };

export interface SaveOptions {
  /** Free-form string metadata stored in the file header and returned by the loader. */
  metadata?: Record<string, string>;
}

function userMetadata(fn: string, path: string, metadata: Record<string, string> = {}): Record<string, string> {
  for (const key of Object.keys(metadata)) {
    if (key.startsWith(RESERVED)) throw new Error(`${fn}: ${path}: metadata key '${key}' uses the reserved prefix '${RESERVED}'`);
  }
  return { ...metadata };
}

function withoutReserved(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).filter(([k]) => !k.startsWith(RESERVED)));
}

/** Reads tensors back from their backends (asynchronously, so that GPU backends work too). */
async function fileTensors(tensors: Record<string, Tensor>): Promise<Record<string, SafetensorsTensor>> {
  const out: Record<string, SafetensorsTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    out[name] = { dtype: FILE_DTYPE[t.dtype], shape: [...t.shape], data: await t.data() };
  }
  return out;
}

function checksum(tensors: Record<string, { dtype: string; shape: number[]; data: ArrayBufferView }>): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(tensors).sort()) {
    const { dtype, shape, data } = tensors[name];
    hash.update(`${JSON.stringify(name)} ${dtype} [${shape}]\n`);
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex');
}

/** Writes a checkpoint of `kind` with its checksum. */
function writeCheckpoint(path: string, tensors: Record<string, SafetensorsTensor>, metadata: Record<string, string>, kind: string): void {
  saveSafetensors(path, tensors, { ...metadata, [KIND]: kind, [CHECKSUM]: checksum(tensors) });
}

/** Checks a checkpoint file's kind and checksum. */
function checkCheckpoint(fn: string, path: string, kind: string, contents: SafetensorsContents): SafetensorsContents {
  const found = contents.metadata[KIND];
  if (found !== undefined && found !== kind) throw new Error(`${fn}: ${path} is a checkpoint of kind '${found}', expected '${kind}'`);
  const stored = contents.metadata[CHECKSUM];
  if (stored !== undefined && stored !== checksum(contents.tensors)) {
    throw new Error(`${fn}: ${path}: the data does not match its checksum (${CHECKSUM}); the file is corrupt and was not loaded`);
  }
  return contents;
}

/** Writes the module's parameters and buffers (by dotted name) to `path`. */
export async function saveModule(path: string, module: Module, opts: SaveOptions = {}): Promise<void> {
  const metadata = userMetadata('saveModule', path, opts.metadata);
  writeCheckpoint(path, await fileTensors(module.stateDict()), metadata, 'module');
}

export interface LoadModuleOptions {
  /** Whether names missing from the file or unknown to the module are errors (default true). */
  strict?: boolean;
}

/**
 * Loads parameters and buffers saved by saveModule (or any safetensors file with matching
 * names) into `module`. Every missing, unexpected, mis-shaped or mis-typed entry is reported in
 * one error, and a corrupt file is refused; in both cases the module is left unchanged.
 * With strict: false, missing and unexpected names are allowed. Resolves to the user metadata.
 * The file is read asynchronously, as saveModule writes it; loadModuleSync blocks instead.
 */
export async function loadModule(path: string, module: Module, opts: LoadModuleOptions = {}): Promise<Record<string, string>> {
  checkOptions('loadModule', opts, ['strict']);
  return fillModule('loadModule', path, checkCheckpoint('loadModule', path, 'module', await readSafetensors(path)), module, opts);
}

/** loadModule reading the file synchronously. */
export function loadModuleSync(path: string, module: Module, opts: LoadModuleOptions = {}): Record<string, string> {
  checkOptions('loadModuleSync', opts, ['strict']);
  return fillModule('loadModuleSync', path, checkCheckpoint('loadModuleSync', path, 'module', loadSafetensors(path)), module, opts);
}

function fillModule(fn: string, path: string, contents: SafetensorsContents, module: Module, opts: LoadModuleOptions): Record<string, string> {
  const strict = opts.strict ?? true;
  const { tensors, metadata } = contents;
  const own = module.stateDict();
  const problems: string[] = [];
  for (const [name, t] of Object.entries(own)) {
    const f = tensors[name];
    if (!f) { if (strict) problems.push(`missing '${name}' (${t.dtype}[${t.shape}])`); continue; }
    const dtypeOk = f.dtype === FILE_DTYPE[t.dtype];
    const shapeOk = f.shape.length === t.shape.length && f.shape.every((s, i) => s === t.shape[i]);
    if (!dtypeOk || !shapeOk) problems.push(`'${name}': file has ${f.dtype}[${f.shape}], module has ${FILE_DTYPE[t.dtype]}[${t.shape}]`);
  }
  if (strict) for (const name of Object.keys(tensors)) if (!(name in own)) problems.push(`unexpected '${name}'`);
  if (problems.length) {
    throw new Error(`${fn}: ${path} does not fit ${module.constructor.name} (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`);
  }
  // All values are on their target backends before the first assignment.
  const staged: [Tensor, Tensor][] = Object.entries(own).filter(([name]) => tensors[name])
    .map(([name, t]) => [t, fromArray(tensors[name].data as Float32Array | Int32Array, t.shape, { backend: t.backend.name, dtype: t.dtype })]);
  noGrad(() => { for (const [t, v] of staged) { t.assign(v); v.dispose(); } });
  return withoutReserved(metadata);
}

export interface OptimizerSaveOptions extends SaveOptions {
  /** Also store this scheduler's position. */
  scheduler?: LRScheduler;
}

const OPTIMIZER_CLASS = 'tessera.optimizer';
const SCALARS = 'tessera.scalars';
const PARAM_SHAPES = 'tessera.paramShapes';
const SCHEDULER = 'tessera.scheduler';

function paramShapes(opt: Optimizer): number[][][] {
  return opt.paramGroups.map((g) => g.params.map((p) => [...p.shape]));
}

/**
 * Writes the optimizer's state (moments, step counts, every numeric group hyperparameter
 * such as lr) and optionally a scheduler's position to `path`.
 */
export async function saveOptimizer(path: string, opt: Optimizer, opts: OptimizerSaveOptions = {}): Promise<void> {
  const metadata = userMetadata('saveOptimizer', path, opts.metadata);
  const sd = opt.stateDict();
  for (const [k, v] of Object.entries(sd.scalars)) {
    if (!Number.isFinite(v)) throw new Error(`saveOptimizer: ${path}: state '${k}' is ${v}, which cannot be stored`);
  }
  metadata[OPTIMIZER_CLASS] = opt.constructor.name;
  metadata[SCALARS] = JSON.stringify(sd.scalars);
  metadata[PARAM_SHAPES] = JSON.stringify(paramShapes(opt));
  if (opts.scheduler) metadata[SCHEDULER] = JSON.stringify({ class: opts.scheduler.constructor.name, ...opts.scheduler.stateDict() });
  writeCheckpoint(path, await fileTensors(sd.tensors), metadata, 'optimizer');
}

export interface LoadOptimizerOptions {
  /** Also restore this scheduler's position (saved with saveOptimizer's scheduler option). */
  scheduler?: LRScheduler;
}

/**
 * Restores what saveOptimizer wrote into an optimizer of the same class over parameters of
 * the same shapes (and, if given, a scheduler of the same class). Everything is checked first:
 * on any mismatch the optimizer and scheduler are unchanged. Resolves to the user metadata.
 * The file is read asynchronously, as saveOptimizer writes it; loadOptimizerSync blocks instead.
 */
export async function loadOptimizer(path: string, opt: Optimizer, opts: LoadOptimizerOptions = {}): Promise<Record<string, string>> {
  checkOptions('loadOptimizer', opts, ['scheduler']);
  return fillOptimizer('loadOptimizer', path, checkCheckpoint('loadOptimizer', path, 'optimizer', await readSafetensors(path)), opt, opts);
}

/** loadOptimizer reading the file synchronously. */
export function loadOptimizerSync(path: string, opt: Optimizer, opts: LoadOptimizerOptions = {}): Record<string, string> {
  checkOptions('loadOptimizerSync', opts, ['scheduler']);
  return fillOptimizer('loadOptimizerSync', path, checkCheckpoint('loadOptimizerSync', path, 'optimizer', loadSafetensors(path)), opt, opts);
}

function fillOptimizer(fn: string, path: string, contents: SafetensorsContents, opt: Optimizer, opts: LoadOptimizerOptions): Record<string, string> {
  const fail = (msg: string) => new Error(`${fn}: ${path}: ${msg}`);
  const { tensors, metadata } = contents;
  const problems: string[] = [];
  const savedClass = metadata[OPTIMIZER_CLASS];
  if (savedClass === undefined || metadata[SCALARS] === undefined || metadata[PARAM_SHAPES] === undefined) {
    throw fail('not an optimizer checkpoint (no tessera optimizer metadata)');
  }
  if (savedClass !== opt.constructor.name) problems.push(`saved by ${savedClass}, loading into ${opt.constructor.name}`);
  const scalars = parseJson(fail, SCALARS, metadata[SCALARS]) as Record<string, number>;
  if (typeof scalars !== 'object' || scalars === null || Object.values(scalars).some((v) => typeof v !== 'number')) {
    throw fail(`${SCALARS} is not an object of numbers`);
  }
  const saved = parseJson(fail, PARAM_SHAPES, metadata[PARAM_SHAPES]) as number[][][];
  if (!Array.isArray(saved) || !saved.every((g) => Array.isArray(g) && g.every((s) => Array.isArray(s) && s.every(Number.isInteger)))) {
    throw fail(`${PARAM_SHAPES} is not a list of groups of shapes`);
  }
  const current = paramShapes(opt);
  if (saved.length !== current.length) problems.push(`${saved.length} parameter groups saved, optimizer has ${current.length}`);
  saved.forEach((group, gi) => {
    const cur = current[gi];
    if (!cur) return;
    if (group.length !== cur.length) problems.push(`group ${gi}: ${group.length} parameters saved, optimizer has ${cur.length}`);
    group.forEach((shape, pi) => {
      const c = cur[pi];
      if (c && (c.length !== shape.length || c.some((s, i) => s !== shape[i]))) problems.push(`group ${gi} parameter ${pi}: saved [${shape}], optimizer has [${c}]`);
    });
  });
  let schedulerState: { class: string; lastEpoch: number } | undefined;
  if (opts.scheduler) {
    if (metadata[SCHEDULER] === undefined) problems.push('no scheduler state saved');
    else {
      schedulerState = parseJson(fail, SCHEDULER, metadata[SCHEDULER]) as { class: string; lastEpoch: number };
      if (typeof schedulerState !== 'object' || schedulerState === null) throw fail(`${SCHEDULER} is not an object`);
      if (schedulerState.class !== opts.scheduler.constructor.name) problems.push(`scheduler saved by ${schedulerState.class}, loading into ${opts.scheduler.constructor.name}`);
      if (!Number.isInteger(schedulerState.lastEpoch) || schedulerState.lastEpoch < 0) problems.push(`scheduler lastEpoch ${schedulerState.lastEpoch} is not a non-negative integer`);
    }
  }
  for (const [name, f] of Object.entries(tensors)) if (f.dtype !== 'F32') problems.push(`state '${name}' is ${f.dtype}, expected F32`);
  if (problems.length) throw fail(`does not fit (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`);

  // Staged on the first parameter's backend; loadStateDict copies across when a parameter lives elsewhere.
  const backend = opt.paramGroups.find((g) => g.params.length)?.params[0].backend.name;
  const staged = Object.fromEntries(Object.entries(tensors).map(([name, f]) => [name, fromArray(f.data as Float32Array, f.shape, { backend })]));
  try {
    opt.loadStateDict({ tensors: staged, scalars });
  } catch (e) {
    throw fail((e as Error).message);
  } finally {
    for (const t of Object.values(staged)) t.dispose();
  }
  if (opts.scheduler && schedulerState) opts.scheduler.loadStateDict(schedulerState);
  return withoutReserved(metadata);
}

function parseJson(fail: (msg: string) => Error, key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw fail(`metadata ${key} is not valid JSON: ${(e as Error).message}`);
  }
}
