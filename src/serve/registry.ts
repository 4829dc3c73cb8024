// Loaded models: lazy loading, least-recently-used eviction under a byte budget, and per-model
// dynamic batching. Requests to a model wait in its queue; a batch starts when maxBatch are
// waiting or the oldest has waited maxWaitMs, and only one batch per model runs at a time. A full
// queue rejects with 429, a request not answered within timeoutMs gets 503. A version swap
// replaces the model used by the next batch; the running batch finishes on the old one, which is
// disposed afterwards, so no request in flight is dropped.
import { ClientError, type LoadedModel } from './kind.js';
import { MODEL_KINDS } from './kinds/index.js';
import type { ModelStore } from './store.js';

export interface BatchingOptions {
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  timeoutMs: number;
  /** Budget for the models' bytes; the least recently used are unloaded to stay under it. */
  memoryBudgetBytes: number;
}

interface Pending {
  input: unknown;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  settled: boolean;
}

interface Entry {
  name: string;
  version: number;
  kind: string;
  model: LoadedModel;
  lastUsed: number;
  queue: Pending[];
  running: boolean;
  waitTimer?: NodeJS.Timeout;
  /** Unloaded: answers what it has queued, then disposes its model. */
  detached?: boolean;
}

export class Registry {
  private entries = new Map<string, Entry>();
  private loading = new Map<string, Promise<Entry>>();

  constructor(private readonly store: ModelStore, private readonly opts: BatchingOptions) {}

  loaded(): { name: string; version: number; kind: string; bytes: number; queue: number }[] {
    return [...this.entries.values()].map((e) => ({ name: e.name, version: e.version, kind: e.kind, bytes: e.model.bytes, queue: e.queue.length }));
  }

  /** Loads `version` (default: the latest) of `name`, or swaps it in when another version is loaded. */
  async load(name: string, version?: number): Promise<Entry> {
    const versions = this.store.versions(name);
    if (versions.length === 0) throw new ClientError(404, `unknown model '${name}' (no version folder with config.json under ${this.store.modelDir(name)})`);
    const v = version ?? versions.at(-1)!;
    if (!versions.includes(v)) throw new ClientError(404, `model '${name}' has no version ${v} (versions: ${versions.join(', ')})`);
    const current = this.entries.get(name);
    if (current?.version === v) { current.lastUsed = Date.now(); return current; }
    const key = `${name}@${v}`;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.loadVersion(name, v).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  private async loadVersion(name: string, version: number): Promise<Entry> {
    const manifest = this.store.manifest(name, version);
    const kind = MODEL_KINDS.get(manifest.kind);
    if (!kind) throw new ClientError(422, `model '${name}' v${version} has kind '${manifest.kind}', which this server does not know (known: ${[...MODEL_KINDS.keys()].join(', ')})`);
    const model = await kind.load(this.store.versionDir(name, version), manifest);
    const existing = this.entries.get(name);
    if (existing) {
      // Hot swap: the next batch uses the new model; the old one goes once its batch is done.
      const old = existing.model;
      existing.model = model; existing.version = version; existing.kind = manifest.kind; existing.lastUsed = Date.now();
      this.retire(existing, old);
      this.evict(name);
      return existing;
    }
    const entry: Entry = { name, version, kind: manifest.kind, model, lastUsed: Date.now(), queue: [], running: false };
    this.entries.set(name, entry);
    this.evict(name);
    return entry;
  }

  private retiring = new Map<LoadedModel, Entry>();
  private retire(entry: Entry, model: LoadedModel): void {
    if (entry.running) this.retiring.set(model, entry);
    else model.dispose();
  }

  /** Unloads the least recently used models until the budget holds (never `keep`). */
  private evict(keep: string): void {
    const total = () => [...this.entries.values()].reduce((n, e) => n + e.model.bytes, 0);
    const order = [...this.entries.values()].filter((e) => e.name !== keep).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const e of order) {
      if (total() <= this.opts.memoryBudgetBytes) break;
      this.unload(e.name);
    }
  }

  /** Unloads a model: new requests load it again; those already queued are answered first. */
  unload(name: string): boolean {
    const e = this.entries.get(name);
    if (!e) return false;
    this.entries.delete(name);
    e.detached = true;
    if (!e.running && e.queue.length === 0) e.model.dispose();
    return true;
  }

  queueDepths(): Record<string, number> {
    return Object.fromEntries([...this.entries.values()].map((e) => [e.name, e.queue.length]));
  }

  /** The model answering requests to `name` now (loading it if needed). */
  async model(name: string): Promise<LoadedModel> { return (await this.load(name)).model; }

  /** Queues one parsed input for `name`'s next batch. */
  async predict(name: string, input: unknown): Promise<unknown> {
    let entry = this.entries.get(name) ?? await this.load(name);
    if (entry.detached) entry = await this.load(name); // unloaded while it was loading
    entry.lastUsed = Date.now();
    if (entry.queue.length >= this.opts.maxQueue) throw new ClientError(429, `model '${name}' has ${entry.queue.length} requests waiting (the limit); retry later`);
    return new Promise((resolve, reject) => {
      const p: Pending = { input, resolve, reject, settled: false, timer: setTimeout(() => {
        const i = entry.queue.indexOf(p);
        if (i >= 0) entry.queue.splice(i, 1);
        this.settle(p, undefined, new ClientError(503, `model '${name}' did not answer within ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs) };
      entry.queue.push(p);
      this.schedule(entry);
    });
  }

  private settle(p: Pending, value: unknown, error?: Error): void {
    if (p.settled) return;
    p.settled = true;
    clearTimeout(p.timer);
    if (error) p.reject(error); else p.resolve(value);
  }

  private schedule(entry: Entry): void {
    if (entry.running || entry.queue.length === 0) return;
    if (entry.queue.length >= this.opts.maxBatch) { clearTimeout(entry.waitTimer); entry.waitTimer = undefined; void this.runBatch(entry); return; }
    if (!entry.waitTimer) entry.waitTimer = setTimeout(() => { entry.waitTimer = undefined; void this.runBatch(entry); }, this.opts.maxWaitMs);
  }

  private async runBatch(entry: Entry): Promise<void> {
    if (entry.running || entry.queue.length === 0) return;
    entry.running = true;
    const batch = entry.queue.splice(0, this.opts.maxBatch);
    const model = entry.model;
    try {
      const results = await model.predictBatch(batch.map((p) => p.input));
      batch.forEach((p, i) => this.settle(p, results[i]));
    } catch (e) {
      for (const p of batch) this.settle(p, undefined, e as Error);
    } finally {
      entry.running = false;
      // Every version swapped out while this batch ran is idle now (one batch per model at a time).
      for (const [old, owner] of this.retiring) if (owner === entry) { this.retiring.delete(old); old.dispose(); }
      if (entry.queue.length > 0) this.schedule(entry);
      else if (entry.detached) entry.model.dispose();
    }
  }

  close(): void {
    for (const e of this.entries.values()) {
      clearTimeout(e.waitTimer);
      for (const p of e.queue.splice(0)) this.settle(p, undefined, new ClientError(503, 'the server is shutting down'));
    }
    for (const name of [...this.entries.keys()]) this.unload(name);
  }
}
