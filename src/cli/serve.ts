// `tessera serve`: the multi-model server (src/serve). `--demo` makes a models folder in code
// (a shapes detector and a GCN node classifier) and serves it.
import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../index.js';
import { registerCommand } from './commands.js';
import { startServer, DEFAULT_SERVE_OPTIONS } from '../serve/server.js';
import { makeDemoModels } from '../serve/demo.js';

const d = DEFAULT_SERVE_OPTIONS;

registerCommand('serve', {
  describe: 'serve models over HTTP: predict, load/unload, training jobs, metrics and a web page',
  flags: {
    models: { type: 'string', describe: 'models folder (<name>/v<N>/config.json + safetensors); with --demo, where to make the demo models (default: a temp folder)' },
    demo: { type: 'boolean', describe: 'make (first start) and serve a shapes detector and a GCN node classifier', default: false },
    port: { type: 'number', describe: 'port (0: any free one)', default: d.port },
    host: { type: 'string', describe: 'address to listen on', default: d.host },
    token: { type: 'string', describe: 'token for training, load/unload (default: env TESSERA_SERVE_TOKEN, else a random one printed at start)' },
    'protect-predict': { type: 'boolean', describe: 'require the token for predict too', default: d.protectPredict },
    'max-batch': { type: 'number', describe: 'largest batch per model', default: d.maxBatch },
    'max-wait-ms': { type: 'number', describe: 'longest a request waits for its batch to fill', default: d.maxWaitMs },
    'max-queue': { type: 'number', describe: 'requests waiting per model before 429', default: d.maxQueue },
    'timeout-ms': { type: 'number', describe: 'a request not answered in this time gets 503', default: d.timeoutMs },
    'memory-mb': { type: 'number', describe: 'budget for loaded models; least recently used are unloaded beyond it', default: d.memoryBudgetBytes / 2 ** 20 },
    'max-upload-mb': { type: 'number', describe: 'largest training upload', default: d.maxTrainUploadBytes / 2 ** 20 },
    'max-image-mb': { type: 'number', describe: 'largest image or JSON body', default: d.maxImageBytes / 2 ** 20 },
    preload: { type: 'string', describe: 'comma-separated models to load at start (--demo loads its two)' },
    backend: { type: 'string', describe: 'backend to run on (default: the fastest present)' },
  },
  async run(args, io) {
    const f = args.flags;
    if (f.backend) await T.setBackend(f.backend as string);
    let modelsDir = f.models as string | undefined;
    let preload = f.preload ? (f.preload as string).split(',').filter((s) => s) : [];
    if (f.demo) {
      modelsDir ??= mkdtempSync(join(tmpdir(), 'tessera-serve-demo-'));
      preload = [...new Set([...preload, ...await makeDemoModels(modelsDir, { log: (l) => io.stderr(l + '\n') })])];
    }
    if (!modelsDir) throw new Error('serve: --models <dir> is required (or --demo)');
    const envToken = process.env.TESSERA_SERVE_TOKEN;
    const token = (f.token as string | undefined) ?? envToken ?? randomBytes(16).toString('hex');
    const running = await startServer({
      ...d, modelsDir, token, preload, port: f.port as number, host: f.host as string, protectPredict: f['protect-predict'] as boolean,
      maxBatch: f['max-batch'] as number, maxWaitMs: f['max-wait-ms'] as number, maxQueue: f['max-queue'] as number,
      timeoutMs: f['timeout-ms'] as number, memoryBudgetBytes: (f['memory-mb'] as number) * 2 ** 20,
      maxTrainUploadBytes: (f['max-upload-mb'] as number) * 2 ** 20, maxImageBytes: (f['max-image-mb'] as number) * 2 ** 20,
      maxJsonBytes: (f['max-image-mb'] as number) * 2 ** 20, backend: f.backend as string | undefined,
    });
    const info = { url: running.url, models: modelsDir, loaded: running.registry.loaded().map((m) => `${m.name}@v${m.version}`), backend: T.getBackend().name };
    if (args.json) io.stdout(JSON.stringify({ ...info, token: f.token || envToken ? undefined : token }) + '\n');
    else io.stdout(`tessera serve on ${info.url} (backend ${info.backend}), models in ${modelsDir}, loaded: ${info.loaded.join(', ') || 'none'}\n` +
      (f.token || envToken ? '' : `token for training and load/unload: ${token}\n`));
    await new Promise<void>((resolve) => {
      const stop = () => { void running.close().then(resolve); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
});
