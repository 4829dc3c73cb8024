// `tessera serve`: a multi-model server on node:http. Multipart bodies are parsed by busboy.
// Routes (JSON unless said otherwise):
//   GET  /                                the web page (page.ts)
//   GET  /health                          liveness and the loaded models
//   GET  /metrics                         Prometheus text format
//   GET  /v1/models                       models, their versions, which is loaded
//   POST /v1/models/:name/predict         JSON body, or multipart with an image file (detectors)
//   POST /v1/models/:name/load            {version?}; swaps versions without dropping requests (token)
//   POST /v1/models/:name/unload          (token)
//   POST /v1/train                        multipart: model, epochs, files (COCO or YOLO) (token)
//   GET  /v1/train, /v1/train/:id         jobs; /v1/train/:id/events streams them (server-sent events)
//   DELETE /v1/train/:id                  cancels or kills a job (token)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import busboy from 'busboy';
import { ClientError } from './kind.js';
import { ModelStore, checkModelName } from './store.js';
import { Registry, type BatchingOptions } from './registry.js';
import { Metrics } from './metrics.js';
import { JobQueue, type Job } from './jobs.js';
import { PAGE_HTML } from './page.js';

export interface ServeOptions extends BatchingOptions {
  modelsDir: string;
  port: number;
  host: string;
  /** Required (Bearer or X-Tessera-Token) for training, load/unload and job cancelling. */
  token: string;
  /** Whether predict needs the token too. */
  protectPredict: boolean;
  maxJsonBytes: number;
  maxImageBytes: number;
  maxTrainUploadBytes: number;
  /** Models loaded at start (others load on their first request). */
  preload: string[];
  trainImageSize: number;
  trainTimeLimitSeconds: number;
  backend?: string;
}

export const DEFAULT_SERVE_OPTIONS: Omit<ServeOptions, 'modelsDir' | 'token'> = {
  port: 8080, host: '127.0.0.1', protectPredict: false,
  maxBatch: 16, maxWaitMs: 5, maxQueue: 256, timeoutMs: 30_000, memoryBudgetBytes: 512 * 2 ** 20,
  maxJsonBytes: 8 * 2 ** 20, maxImageBytes: 8 * 2 ** 20, maxTrainUploadBytes: 256 * 2 ** 20,
  preload: [], trainImageSize: 64, trainTimeLimitSeconds: 300,
};

export interface RunningServer {
  server: Server;
  url: string;
  registry: Registry;
  jobs: JobQueue;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) { res.end(); return; }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) { req.resume(); reject(new ClientError(413, `the body has ${declared} bytes; the limit is ${limit}`)); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) { req.destroy(); reject(new ClientError(413, `the body is over the limit of ${limit} bytes`)); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new ClientError(400, `the body is not valid JSON: ${(e as Error).message}`);
  }
}

interface Multipart { fields: Record<string, string>; files: { field: string; filename: string; data: Buffer }[] }

/** Parses a multipart body into memory, with per-file and total limits. */
function readMultipart(req: IncomingMessage, fileLimit: number, totalLimit: number, maxFiles: number): Promise<Multipart> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { fileSize: fileLimit, files: maxFiles, fields: 32, fieldSize: 64 * 1024 } });
    } catch (e) {
      reject(new ClientError(400, `bad multipart request: ${(e as Error).message}`));
      return;
    }
    const out: Multipart = { fields: {}, files: [] };
    let total = 0, failed = false;
    const fail = (e: ClientError) => { if (!failed) { failed = true; req.unpipe(bb); req.resume(); reject(e); } };
    bb.on('field', (name, value) => { out.fields[name] = value; });
    bb.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => {
        total += c.length;
        if (total > totalLimit) fail(new ClientError(413, `the upload is over the limit of ${totalLimit} bytes`));
        else chunks.push(c);
      });
      stream.on('limit', () => fail(new ClientError(413, `file '${info.filename}' is over the limit of ${fileLimit} bytes`)));
      stream.on('close', () => { if (!failed) out.files.push({ field, filename: info.filename ?? '', data: Buffer.concat(chunks) }); });
    });
    bb.on('filesLimit', () => fail(new ClientError(413, `more than ${maxFiles} files in one upload`)));
    bb.on('error', (e: Error) => fail(new ClientError(400, `bad multipart body: ${e.message}`)));
    bb.on('close', () => { if (!failed) resolve(out); });
    req.pipe(bb);
  });
}

/** Where an uploaded training file goes: images/<file>, labels/<file>, or the folder's top level. */
function uploadPath(filename: string): string {
  const parts = filename.split(/[\\/]/).filter((p) => p !== '');
  const base = parts.at(-1) ?? '';
  if (!/^[A-Za-z0-9][\w.-]{0,127}$/.test(base) || base.includes('..')) throw new ClientError(400, `invalid file name ${JSON.stringify(filename)}`);
  const parent = parts.at(-2);
  if (parent === 'images' || parent === 'labels') return `${parent}/${base}`;
  if (/\.(png|jpe?g)$/i.test(base)) return `images/${base}`;
  if (/\.txt$/i.test(base) && base !== 'classes.txt') return `labels/${base}`;
  return base;
}

function tokenMatches(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(given).digest(), b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const opts = { ...DEFAULT_SERVE_OPTIONS, ...options };
  if (!opts.token) throw new Error('serve: a token is required (--token or TESSERA_SERVE_TOKEN)');
  mkdirSync(opts.modelsDir, { recursive: true });
  const store = new ModelStore(opts.modelsDir);
  const registry = new Registry(store, opts);
  const jobs = new JobQueue(store, registry, { imageSize: opts.trainImageSize, backend: opts.backend, timeLimitSeconds: opts.trainTimeLimitSeconds });
  const metrics = new Metrics();
  for (const name of opts.preload) await registry.load(name);

  const requireToken = (req: IncomingMessage) => {
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : (req.headers['x-tessera-token'] as string | undefined);
    if (!tokenMatches(given, opts.token)) throw new ClientError(401, 'this endpoint needs the server token (Authorization: Bearer <token>)');
  };

  const modelList = () => {
    const loaded = new Map(registry.loaded().map((m) => [m.name, m]));
    return store.names().map((name) => {
      const versions = store.versions(name);
      const l = loaded.get(name);
      return { name, kind: store.manifest(name, versions.at(-1)!).kind, versions, loadedVersion: l?.version ?? null, bytes: l?.bytes ?? null, queue: l?.queue ?? 0 };
    });
  };

  async function predict(req: IncomingMessage, name: string): Promise<unknown> {
    if (opts.protectPredict) requireToken(req);
    checkModelName(name);
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (type.startsWith('multipart/form-data')) {
      const model = await registry.model(name);
      if (!model.parseImage) { req.resume(); throw new ClientError(415, `model '${name}' does not take image uploads; send JSON`); }
      const body = await readMultipart(req, opts.maxImageBytes, opts.maxImageBytes, 1);
      const file = body.files[0];
      if (!file) throw new ClientError(400, 'the multipart body has no image file');
      return registry.predict(name, model.parseImage(file.data, type));
    }
    if (!type.startsWith('application/json')) { req.resume(); throw new ClientError(415, `predict takes application/json or multipart/form-data, got '${type || 'no content type'}'`); }
    const body = await readJson(req, opts.maxJsonBytes);
    const model = await registry.model(name);
    return registry.predict(name, model.parseJson(body));
  }

  async function train(req: IncomingMessage): Promise<Job> {
    requireToken(req);
    if (!(req.headers['content-type'] ?? '').startsWith('multipart/form-data')) { req.resume(); throw new ClientError(415, 'POST /v1/train takes multipart/form-data: model, epochs, and the image and label files'); }
    const body = await readMultipart(req, opts.maxImageBytes, opts.maxTrainUploadBytes, 10_000);
    const model = checkModelName(body.fields.model ?? '');
    const epochs = Number(body.fields.epochs ?? 10);
    if (!Number.isInteger(epochs) || epochs < 1 || epochs > 1000) throw new ClientError(400, `epochs must be an integer in [1, 1000], got ${JSON.stringify(body.fields.epochs)}`);
    if (body.files.length === 0) throw new ClientError(400, 'the upload holds no files');
    const paths = body.files.map((f) => uploadPath(f.filename));
    if (!paths.some((p) => /\.(png|jpe?g)$/i.test(p))) throw new ClientError(400, 'the upload holds no PNG or JPEG image');
    if (!paths.includes('annotations.json') && !paths.some((p) => p.startsWith('labels/'))) throw new ClientError(400, 'the upload needs annotations.json (COCO) or labels/*.txt with classes.txt (YOLO)');
    const { id, dataDir } = jobs.newJobId();
    body.files.forEach((f, i) => {
      const path = join(dataDir, paths[i]);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.data);
    });
    return jobs.submit(id, model, epochs);
  }

  function events(req: IncomingMessage, res: ServerResponse, id: string): void {
    const job = jobs.get(id);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const write = (j: Job) => { if (j.id === id) res.write(`data: ${JSON.stringify(j)}\n\n`); };
    write(job);
    const onUpdate = (j: Job) => {
      write(j);
      if (j.id === id && (j.state === 'succeeded' || j.state === 'failed')) res.end();
    };
    if (job.state === 'succeeded' || job.state === 'failed') { res.end(); return; }
    jobs.on('update', onUpdate);
    res.on('close', () => jobs.off('update', onUpdate));
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<{ route: string; model: string; status: number }> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname, method = req.method ?? 'GET';
    const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
    const ok = (r: string, body: unknown, model = '', status = 200) => { send(res, status, body); return { route: r, model, status }; };
    if (method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE_HTML);
      return { route: 'page', model: '', status: 200 };
    }
    if (method === 'GET' && path === '/health') return ok('health', { status: 'ok', loaded: registry.loaded(), jobs: jobs.list().filter((j) => j.state === 'running').length });
    if (method === 'GET' && path === '/metrics') {
      const text = metrics.render(registry.queueDepths(), Object.fromEntries(registry.loaded().map((m) => [m.name, m.bytes])));
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(text);
      return { route: 'metrics', model: '', status: 200 };
    }
    if (parts[0] === 'v1' && parts[1] === 'models') {
      if (parts.length === 2 && method === 'GET') return ok('models', { models: modelList() });
      if (parts.length === 4 && method === 'POST') {
        const [, , name, action] = parts;
        if (action === 'predict') return ok('predict', await predict(req, name), name);
        if (action === 'load') {
          requireToken(req);
          const body = await readJson(req, opts.maxJsonBytes) as { version?: unknown };
          if (body.version !== undefined && !Number.isInteger(body.version)) throw new ClientError(400, `version must be an integer, got ${JSON.stringify(body.version)}`);
          const e = await registry.load(name, body.version as number | undefined);
          return ok('load', { name, version: e.version, kind: e.kind, bytes: e.model.bytes }, name);
        }
        if (action === 'unload') {
          requireToken(req);
          checkModelName(name);
          return ok('unload', { name, unloaded: registry.unload(name) }, name);
        }
      }
    }
    if (parts[0] === 'v1' && parts[1] === 'train') {
      if (parts.length === 2 && method === 'POST') return ok('train', await train(req), '', 202);
      if (parts.length === 2 && method === 'GET') return ok('jobs', { jobs: jobs.list() });
      if (parts.length === 3 && method === 'GET') return ok('job', jobs.get(parts[2]));
      if (parts.length === 3 && method === 'DELETE') { requireToken(req); return ok('cancel', jobs.cancel(parts[2])); }
      if (parts.length === 4 && parts[3] === 'events' && method === 'GET') { events(req, res, parts[2]); return { route: 'events', model: '', status: 200 }; }
    }
    req.resume();
    throw new ClientError(404, `no route ${method} ${path}`);
  }

  const server = createServer((req, res) => {
    const start = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
    route(req, res).then(
      (r) => metrics.observe(r.route, r.model, r.status, seconds()),
      (e: Error) => {
        const status = e instanceof ClientError ? e.status : 500;
        send(res, status, { error: e.message, status });
        metrics.observe('error', '', status, seconds());
      },
    );
  });
  server.requestTimeout = opts.timeoutMs * 2;
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(opts.port, opts.host, () => resolve()); });
  const addr = server.address() as AddressInfo;
  return {
    server, registry, jobs, url: `http://${opts.host}:${addr.port}`,
    async close() {
      jobs.close();
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
      registry.close();
    },
  };
}
