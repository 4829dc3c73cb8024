// Training jobs: uploaded annotated images become a new detector version. Jobs run one at a
// time in a child process (train-worker.ts). The version is trained into <model>/.tmp-<job> and
// renamed to v<N> only when complete, then swapped in; a failed or killed job removes its
// temporary folder and the old version keeps serving. Job records live in <models>/.jobs/; on
// start every job that was queued or running is marked failed (jobs do not survive a restart).
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientError } from './kind.js';
import type { ModelStore } from './store.js';
import type { Registry } from './registry.js';
import type { TrainJobOptions, WorkerMessage } from './train-worker.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';

export interface Job {
  id: string;
  model: string;
  state: JobState;
  created: string;
  epochs: number;
  progress?: { epoch: number; step: number; steps: number; loss: number };
  version?: number;
  result?: { epochs: number; seconds: number; map50: number; images: number; classNames: string[] };
  error?: string;
}

export interface JobOptions {
  imageSize: number;
  backend?: string;
  timeLimitSeconds: number;
}

export class JobQueue extends EventEmitter {
  private jobs = new Map<string, Job>();
  private queue: string[] = [];
  private child?: { id: string; process: ChildProcess };
  private counter = 0;
  readonly dir: string;

  constructor(private readonly store: ModelStore, private readonly registry: Registry, private readonly opts: JobOptions) {
    super();
    this.dir = join(store.root, '.jobs');
    mkdirSync(this.dir, { recursive: true });
    this.recover();
  }

  /** Marks jobs a previous process left unfinished as failed and removes half-written versions. */
  private recover(): void {
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith('.json')) continue;
      const job = JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as Job;
      if (job.state === 'queued' || job.state === 'running') {
        job.state = 'failed';
        job.error = 'the server restarted before the job finished';
        this.save(job);
      }
      this.jobs.set(job.id, job);
    }
    for (const entry of readdirSync(this.store.root, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const dir = join(this.store.root, entry.name);
      for (const d of readdirSync(dir)) if (d.startsWith('.tmp-')) rmSync(join(dir, d), { recursive: true, force: true });
    }
    for (const d of readdirSync(this.dir)) if (!d.endsWith('.json')) rmSync(join(this.dir, d), { recursive: true, force: true });
  }

  private save(job: Job): void {
    const path = join(this.dir, `${job.id}.json`);
    writeFileSync(path + '.tmp', JSON.stringify(job));
    renameSync(path + '.tmp', path);
    this.emit('update', job);
  }

  list(): Job[] { return [...this.jobs.values()].sort((a, b) => (a.created < b.created ? 1 : -1)); }

  get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new ClientError(404, `unknown training job '${id}'`);
    return job;
  }

  /** A folder for a new job's upload (removed when the job ends). */
  newJobId(): { id: string; dataDir: string } {
    const id = `job-${Date.now().toString(36)}-${(this.counter++).toString(36)}`;
    const dataDir = join(this.dir, id);
    mkdirSync(dataDir, { recursive: true });
    return { id, dataDir };
  }

  submit(id: string, model: string, epochs: number): Job {
    this.store.modelDir(model); // checks the name
    const job: Job = { id, model, state: 'queued', created: new Date().toISOString(), epochs };
    this.jobs.set(id, job);
    this.save(job);
    this.queue.push(id);
    this.next();
    return job;
  }

  /** Cancels a queued job or kills a running one. */
  cancel(id: string): Job {
    const job = this.get(id);
    if (job.state === 'queued') {
      this.queue = this.queue.filter((q) => q !== id);
      this.finish(job, 'failed', 'cancelled');
    } else if (job.state === 'running' && this.child?.id === id) {
      this.child.process.kill('SIGKILL');
    } else {
      throw new ClientError(409, `job '${id}' has already ${job.state}`);
    }
    return job;
  }

  private finish(job: Job, state: 'succeeded' | 'failed', error?: string): void {
    job.state = state;
    if (error) job.error = error;
    rmSync(join(this.dir, job.id), { recursive: true, force: true });
    this.save(job);
  }

  private next(): void {
    if (this.child || this.queue.length === 0) return;
    const job = this.get(this.queue.shift()!);
    const modelDir = this.store.modelDir(job.model);
    const version = (this.store.latest(job.model) ?? 0) + 1;
    const tmp = join(modelDir, `.tmp-${job.id}`);
    mkdirSync(tmp, { recursive: true });
    const base = this.store.latest(job.model);
    const baseConfig = base !== undefined ? this.store.manifest(job.model, base) : undefined;
    if (baseConfig && baseConfig.kind !== 'detector') {
      rmSync(tmp, { recursive: true, force: true });
      this.finish(job, 'failed', `model '${job.model}' is a ${baseConfig.kind}; training jobs make detectors`);
      this.next();
      return;
    }
    const detector = (baseConfig?.config as { detector?: Record<string, unknown> } | undefined)?.detector ?? {};
    const options: TrainJobOptions = {
      imageSize: (baseConfig?.config as { imageSize?: number } | undefined)?.imageSize ?? this.opts.imageSize,
      epochs: job.epochs, batchSize: 8, lr: 3e-3, timeLimitSeconds: this.opts.timeLimitSeconds, version,
      detector: { width: detector.width as number | undefined, depth: detector.depth as number | undefined },
      backend: this.opts.backend,
    };
    const child = fork(new URL('./train-worker.js', import.meta.url), [join(this.dir, job.id), tmp, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
    this.child = { id: job.id, process: child };
    job.state = 'running';
    this.save(job);
    let done: WorkerMessage | undefined;
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') { job.progress = { epoch: m.epoch, step: m.step, steps: m.steps, loss: m.loss }; this.emit('update', job); }
      else done = m;
    });
    child.on('exit', (code, signal) => {
      this.child = undefined;
      void this.complete(job, tmp, version, done, code, signal, stderr).finally(() => this.next());
    });
  }

  private async complete(job: Job, tmp: string, version: number, done: WorkerMessage | undefined, code: number | null, signal: string | null, stderr: string): Promise<void> {
    if (done?.type !== 'done' || code !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      const why = done?.type === 'error' ? done.message : signal ? `the training process was killed (${signal})` : `the training process exited with code ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`;
      this.finish(job, 'failed', why);
      return;
    }
    const dir = this.store.versionDir(job.model, version);
    try {
      renameSync(tmp, dir);
      job.version = version;
      job.result = { epochs: done.epochs, seconds: done.seconds, map50: done.map50, images: done.images, classNames: done.classNames };
      await this.registry.load(job.model, version);
      this.finish(job, 'succeeded');
    } catch (e) {
      // A version that does not load is not kept: the previous one goes on serving.
      rmSync(tmp, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
      job.version = undefined;
      this.finish(job, 'failed', (e as Error).message);
    }
  }

  close(): void { this.child?.process.kill('SIGKILL'); }
}
