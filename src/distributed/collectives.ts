// Collectives over MPI on tensors of any backend. Host backends (cpu, reference) hand their storage
// (a Float32Array / Int32Array) to MPI directly, in place; device backends are read into one typed array
// and written back. No JavaScript number arrays on the way.
import { existsSync } from 'node:fs';
import { loadAddon } from '../backend/cpu/addon.js';
import { HostBuf } from '../backend/hostbuf.js';
import { emptyTensor, type Tensor } from '../tensor.js';
import { backendByName } from '../backend/registry.js';
import { CudaBuf } from '../backend/cuda/index.js';

export type DistributedBackendName = 'mpi' | 'nccl';
export type ReduceOp = 'sum' | 'mean' | 'max' | 'min';

export interface InitOptions {
  /** Default 'mpi'. 'nccl': CUDA tensors, one rank only in this version (see README, "Data-parallel training"). */
  backend?: DistributedBackendName;
  /** Seconds a collective waits for the other ranks before it ends the job naming its rank. Default 300; 0 waits forever. */
  timeoutSeconds?: number;
}

interface MpiAddon {
  mpiInit(): { rank: number; size: number; mpiVersion: string; library: string };
  mpiAllReduce(buf: Float32Array | Int32Array, op: number, timeout: number): void;
  /** Absent in addons built before non-blocking all-reduces. */
  mpiStartAllReduce?(buf: Float32Array | Int32Array, op: number): number;
  mpiTest?(request: number): boolean;
  mpiWait?(request: number, timeout: number): void;
  mpiBroadcast(buf: Float32Array | Int32Array, root: number, timeout: number): void;
  mpiAllGather(send: Float32Array | Int32Array, recv: Float32Array | Int32Array, timeout: number): void;
  mpiReduceScatter(send: Float32Array | Int32Array, recv: Float32Array | Int32Array, op: number, timeout: number): void;
  mpiBarrier(timeout: number): void;
  mpiAbort(code: number): never;
  mpiFinalize(): void;
}

const OP_CODES: Record<Exclude<ReduceOp, 'mean'>, number> = { sum: 0, max: 1, min: 2 };
const INIT_KEYS = new Set(['backend', 'timeoutSeconds']);

let state: { mpi: MpiAddon; rank: number; size: number; timeout: number; library: string } | null = null;

/** The addon's NCCL functions (native/cuda/nccl.cc; libnccl itself is loaded by cudaNcclInit). */
interface NcclAddon {
  cudaNcclInit(rank: number, size: number): number;
  cudaNcclAllReduce(buf: number, op: number): void;
  cudaNcclBroadcast(buf: number, root: number): void;
}
/** Set by init({ backend: 'nccl' }): a job of one rank whose collectives run on CUDA buffers. */
let nccl: { addon: NcclAddon; version: number } | null = null;
const NCCL_OP_CODES: Record<ReduceOp, number> = { sum: 0, max: 1, min: 2, mean: 3 };

function initNccl(): { rank: number; worldSize: number } {
  if (nccl) return { rank: 0, worldSize: 1 };
  const size = Number(process.env.WORLD_SIZE ?? 1), r = Number(process.env.RANK ?? 0);
  if (size !== 1) {
    throw new Error(`distributed.init: backend 'nccl' supports a job of one rank in this version (WORLD_SIZE=${size}); use backend 'mpi'`);
  }
  try {
    backendByName('cuda');  // a clear error without a GPU, or with an addon built without CUDA
  } catch (e) {
    throw new Error(`distributed.init: backend 'nccl' needs a CUDA GPU: ${(e as Error).message}`);
  }
  const addon = loadAddon().addon as Partial<NcclAddon> | undefined;
  if (typeof addon?.cudaNcclInit !== 'function') {
    throw new Error("distributed.init: backend 'nccl': the native addon has no NCCL binding; rebuild it (npm run build:native)");
  }
  try {
    nccl = { addon: addon as NcclAddon, version: addon.cudaNcclInit(r, size) };
  } catch (e) {
    throw new Error(`distributed.init: backend 'nccl': ${(e as Error).message}`);
  }
  return { rank: r, worldSize: size };
}

/** The CUDA buffer handle of t, for an NCCL collective. */
function ncclBuffer(t: Tensor, op: string): number {
  if (!t.isContiguous) throw new Error(`distributed.${op}: tensor ${t.describe()} is not contiguous; call contiguous() first`);
  const buf = t.storage.buf;
  if (!(buf instanceof CudaBuf)) throw new Error(`distributed.${op}: backend 'nccl' needs cuda tensors, got ${t.describe()}`);
  return buf.handle;
}

/** The addon's MPI functions, or null with the reason (no addon, or an addon built without MPI). */
export function mpiSupport(): { mpi: MpiAddon | null; why?: string } {
  const { addon, error } = loadAddon();
  if (!addon) return { mpi: null, why: `the native addon is not loaded: ${error}` };
  if (typeof addon.mpiInit !== 'function') {
    return { mpi: null, why: 'the native addon was built without MPI (install an MPI, e.g. Debian\'s libopenmpi-dev and openmpi-bin, and rebuild it)' };
  }
  return { mpi: addon as MpiAddon };
}

/**
 * Joins the job started by `tessera launch` (or mpirun). Idempotent. After it, an uncaught error on
 * any rank prints "rank r of n failed: message" and ends every rank of the job.
 */
export function init(opts: InitOptions = {}): { rank: number; worldSize: number } {
  for (const k of Object.keys(opts)) if (!INIT_KEYS.has(k)) throw new Error(`distributed.init: unknown option '${k}' (known: ${[...INIT_KEYS].join(', ')})`);
  const backend = opts.backend ?? 'mpi';
  const timeout = opts.timeoutSeconds ?? 300;
  if (!(timeout >= 0)) throw new Error(`distributed.init: timeoutSeconds must be >= 0, got ${timeout}`);
  if (backend === 'nccl') {
    if (!existsSync('/proc/driver/nvidia/version')) {
      throw new Error("distributed.init: backend 'nccl' needs a CUDA GPU and none was found (no NVIDIA driver loaded); use backend 'mpi'");
    }
    if (state) throw new Error("distributed.init: this process already joined an MPI job; it cannot switch to backend 'nccl'");
    return initNccl();
  }
  if (backend !== 'mpi') throw new Error(`distributed.init: backend must be 'mpi' or 'nccl', got '${String(backend)}'`);
  if (nccl) throw new Error("distributed.init: this process already uses backend 'nccl'; it cannot switch to 'mpi'");
  if (state) { state.timeout = timeout; return { rank: state.rank, worldSize: state.size }; }
  const { mpi, why } = mpiSupport();
  if (!mpi) throw new Error(`distributed.init: backend 'mpi' is unavailable: ${why}`);
  const { rank, size, library } = mpi.mpiInit();
  // The torch convention, when the launcher set it, must agree with what MPI says.
  for (const [name, value] of [['RANK', rank], ['WORLD_SIZE', size]] as const) {
    const given = process.env[name];
    if (given !== undefined && given !== '' && Number(given) !== value) {
      throw new Error(`distributed.init: ${name}=${given} in the environment but MPI says ${value}; start the job with \`tessera launch\` or mpirun`);
    }
    process.env[name] = String(value);
  }
  state = { mpi, rank, size, timeout, library };
  const failRank = (e: unknown) => {
    const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
    process.stderr.write(`tessera distributed: rank ${rank} of ${size} failed: ${message}\n`);
    mpi.mpiAbort(1);
  };
  process.on('uncaughtException', failRank);
  process.on('unhandledRejection', failRank);
  process.on('exit', () => mpi.mpiFinalize());
  return { rank, worldSize: size };
}

function joined(op: string): NonNullable<typeof state> {
  if (nccl) throw new Error(`distributed.${op}: not available with backend 'nccl' in this version (allReduce, broadcast, barrier and agree are)`);
  if (!state) throw new Error(`distributed.${op}: call init() first`);
  return state;
}

/** This process's rank: from MPI after init(), else RANK (or Open MPI's OMPI_COMM_WORLD_RANK), else 0. */
export function rank(): number {
  return state?.rank ?? Number(process.env.RANK ?? process.env.OMPI_COMM_WORLD_RANK ?? 0);
}

/** Number of ranks: from MPI after init(), else WORLD_SIZE (or OMPI_COMM_WORLD_SIZE), else 1. */
export function worldSize(): number {
  return state?.size ?? Number(process.env.WORLD_SIZE ?? process.env.OMPI_COMM_WORLD_SIZE ?? 1);
}

/** Whether init() has run. */
export function isInitialized(): boolean { return state !== null || nccl !== null; }

/** Ends every rank of the job with exit code `code` (after printing `message` on this rank, if given). */
export function abort(message?: string, code = 1): never {
  const s = joined('abort');
  if (message) process.stderr.write(`tessera distributed: rank ${s.rank} of ${s.size}: ${message}\n`);
  return s.mpi.mpiAbort(code);
}

/** The typed array holding t's elements, and how to put changes back into t. */
function elementsOf(t: Tensor, op: string): { data: Float32Array | Int32Array; commit(): void } {
  if (!t.isContiguous) throw new Error(`distributed.${op}: tensor ${t.describe()} is not contiguous; call contiguous() first`);
  const buf = t.storage.buf!;
  if (buf instanceof HostBuf) {
    if (buf.data instanceof Float64Array) throw new Error(`distributed.${op}: tensor ${t.describe()}: float64 storage (the reference64 backend) is not supported`);
    return { data: buf.data, commit() {} };
  }
  const data = t.backend.readSync(buf);
  return { data, commit: () => t.backend.write(buf, data) };
}

function opCode(op: ReduceOp, fn: string, t: Tensor): number {
  if (op === 'mean') {
    if (t.dtype !== 'float32') throw new Error(`distributed.${fn}: op 'mean' needs a float32 tensor, got ${t.describe()}`);
    return OP_CODES.sum;
  }
  const code = OP_CODES[op as keyof typeof OP_CODES];
  if (code === undefined) throw new Error(`distributed.${fn}: op must be 'sum', 'mean', 'max' or 'min', got '${String(op)}'`);
  return code;
}

function divideInPlace(data: Float32Array | Int32Array, by: number): void {
  for (let i = 0; i < data.length; i++) data[i] /= by;
}

/** Reduces t over all ranks, in place, and returns t (every rank gets the result). */
export function allReduce(t: Tensor, op: ReduceOp = 'sum'): Tensor {
  if (nccl) {
    if (NCCL_OP_CODES[op] === undefined) throw new Error(`distributed.allReduce: op must be 'sum', 'mean', 'max' or 'min', got '${String(op)}'`);
    if (op === 'mean' && t.dtype !== 'float32') throw new Error(`distributed.allReduce: op 'mean' needs a float32 tensor, got ${t.describe()}`);
    nccl.addon.cudaNcclAllReduce(ncclBuffer(t, 'allReduce'), NCCL_OP_CODES[op]);
    return t;
  }
  const s = joined('allReduce');
  const code = opCode(op, 'allReduce', t);
  const { data, commit } = elementsOf(t, 'allReduce');
  s.mpi.mpiAllReduce(data, code, s.timeout);
  if (op === 'mean') divideInPlace(data, s.size);
  commit();
  return t;
}

/** allReduce on a typed array, in place (for callers that pack several tensors into one message). */
export function allReduceArray(data: Float32Array | Int32Array, op: ReduceOp = 'sum'): void {
  const s = joined('allReduce');
  if (op === 'mean' && !(data instanceof Float32Array)) throw new Error("distributed.allReduce: op 'mean' needs float32 data");
  s.mpi.mpiAllReduce(data, op === 'mean' ? OP_CODES.sum : OP_CODES[op], s.timeout);
  if (op === 'mean') divideInPlace(data, s.size);
}

/** An all-reduce started with startAllReduceArray: test() lets it progress, wait() finishes it. */
export interface PendingAllReduce {
  /** Whether it has completed (and lets MPI progress it, which Open MPI does only inside MPI calls). */
  test(): boolean;
  /** Waits for it (ending the job after the timeout, as every collective) and applies 'mean'. */
  wait(): void;
}

/** Whether the loaded addon can start an all-reduce without waiting for it (an addon built before it cannot). */
export function canStartAllReduce(): boolean {
  return typeof joined('allReduce').mpi.mpiStartAllReduce === 'function';
}

/**
 * Starts allReduceArray(data, op) and returns at once; `data` must not be read or written until wait().
 * Every rank must start its all-reduces in the same order, as with any collective.
 */
export function startAllReduceArray(data: Float32Array | Int32Array, op: ReduceOp = 'sum'): PendingAllReduce {
  const s = joined('allReduce');
  if (op === 'mean' && !(data instanceof Float32Array)) throw new Error("distributed.allReduce: op 'mean' needs float32 data");
  const start = s.mpi.mpiStartAllReduce;
  if (!start) throw new Error('distributed.allReduce: the native addon cannot start a non-blocking all-reduce; rebuild it (npm run build:native)');
  const id = start(data, op === 'mean' ? OP_CODES.sum : OP_CODES[op]);
  let done = false;
  return {
    test: () => done || s.mpi.mpiTest!(id),
    wait: () => {
      if (done) return;
      s.mpi.mpiWait!(id, s.timeout);
      done = true;
      if (op === 'mean') divideInPlace(data, s.size);
    },
  };
}

/** Copies rank `root`'s t into t on every rank, in place; returns t. */
export function broadcast(t: Tensor, root = 0): Tensor {
  if (nccl) {
    if (root !== 0) throw new Error(`distributed.broadcast: root must be an integer in [0, 1), got ${root}`);
    nccl.addon.cudaNcclBroadcast(ncclBuffer(t, 'broadcast'), root);
    return t;
  }
  const s = joined('broadcast');
  if (!Number.isInteger(root) || root < 0 || root >= s.size) throw new Error(`distributed.broadcast: root must be an integer in [0, ${s.size}), got ${root}`);
  const { data, commit } = elementsOf(t, 'broadcast');
  s.mpi.mpiBroadcast(data, root, s.timeout);
  commit();
  return t;
}

/** Concatenates every rank's t (same shape on every rank) along a new leading block: shape [worldSize * n, ...] (a scalar gives [worldSize]). */
export function allGather(t: Tensor): Tensor {
  const s = joined('allGather');
  const { data } = elementsOf(t, 'allGather');
  const shape = t.shape.length === 0 ? [s.size] : [t.shape[0] * s.size, ...t.shape.slice(1)];
  const out = emptyTensor(t.backend, shape, t.dtype);
  const target = elementsOf(out, 'allGather');
  s.mpi.mpiAllGather(data, target.data, s.timeout);
  target.commit();
  return out;
}

/** Reduces t over ranks and gives rank r block r of the leading dimension (which worldSize must divide). */
export function reduceScatter(t: Tensor, op: ReduceOp = 'sum'): Tensor {
  const s = joined('reduceScatter');
  const code = opCode(op, 'reduceScatter', t);
  if (t.shape.length === 0 || t.shape[0] % s.size !== 0) {
    throw new Error(`distributed.reduceScatter: the leading dimension of ${t.describe()} must be a multiple of the world size ${s.size}`);
  }
  const { data } = elementsOf(t, 'reduceScatter');
  const out = emptyTensor(t.backend, [t.shape[0] / s.size, ...t.shape.slice(1)], t.dtype);
  const target = elementsOf(out, 'reduceScatter');
  s.mpi.mpiReduceScatter(data, target.data, code, s.timeout);
  if (op === 'mean') divideInPlace(target.data, s.size);
  target.commit();
  return out;
}

/** Returns when every rank has called barrier(). */
export function barrier(): void {
  if (nccl) return;  // the job's only rank has arrived
  const s = joined('barrier');
  s.mpi.mpiBarrier(s.timeout);
}

/**
 * Runs fn on every rank; when it throws on any rank, every rank throws the same Error, naming the lowest
 * failing rank and its message, instead of the healthy ranks waiting in the next collective.
 */
export function agree<R>(fn: () => R): R {
  if (nccl) return fn();  // one rank: its error is every rank's
  const s = joined('agree');
  let result: R | undefined, failure: unknown = null;
  try { result = fn(); } catch (e) { failure = e; }
  const first = Int32Array.of(failure === null ? s.size : s.rank);
  s.mpi.mpiAllReduce(first, OP_CODES.min, s.timeout);
  if (first[0] === s.size) return result as R;
  const text = new TextEncoder().encode(failure === null ? '' : failure instanceof Error ? failure.message : String(failure));
  const length = Int32Array.of(text.length);
  s.mpi.mpiBroadcast(length, first[0], s.timeout);
  const words = new Int32Array(Math.ceil(length[0] / 4));
  if (s.rank === first[0]) new Uint8Array(words.buffer).set(text);
  s.mpi.mpiBroadcast(words, first[0], s.timeout);
  const message = new TextDecoder().decode(new Uint8Array(words.buffer, 0, length[0]));
  throw new Error(`rank ${first[0]} of ${s.size} failed: ${message}`);
}
