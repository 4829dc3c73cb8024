// `tessera bench [--kernel a,b] [--name file]`: the benchmark suite of bench/run.ts, in its own process
// (it sets the thread count before the addon loads).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerCommand } from './commands.js';

registerCommand('bench', {
  describe: 'time the kernels against numpy/scipy/PyTorch peers; writes bench/results/<name>.json',
  flags: {
    kernel: { type: 'string', describe: 'comma-separated kernels or name parts (matmul, spmm, cmd, conv3d, linear, gcn, mup, ...)' },
    name: { type: 'string', describe: 'results file name (default: the kernel list, or "all")' },
  },
  run(args) {
    // This file runs as dist/src/cli/bench.js; the runner is dist/bench/run.js.
    const runner = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'run.js');
    const extra: string[] = [];
    if (args.flags.kernel !== undefined) extra.push('--kernel', String(args.flags.kernel));
    if (args.flags.name !== undefined) extra.push('--name', String(args.flags.name));
    const r = spawnSync(process.execPath, [runner, ...extra], { stdio: 'inherit' });
    return r.status ?? 1;
  },
});
