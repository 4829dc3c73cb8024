// `tessera bench [--kernel a,b|all|limits] [--quick] [--json] [--out file] [--name name]`: the benchmark
// suite of bench/run.ts, in its own process (it sets the thread count before the addon loads).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerCommand } from './commands.js';

registerCommand('bench', {
  describe: 'time the kernels against their peers (numpy/scipy/PyTorch at their fastest configuration, TensorFlow.js, ' +
    'onnxruntime-node) with the machine\'s limits measured in the same run; writes bench/results/<name>.json under the working directory',
  flags: {
    kernel: { type: 'string', describe: 'comma-separated kernels or name parts (matmul, spmm, cmd, conv3d, linear, gcn, step, mup, webgpu, overhead, scaling, ...); all (default); limits: only the machine\'s limits' },
    name: { type: 'string', describe: 'results file name (default: the kernel list, or "all")' },
    out: { type: 'string', describe: 'results file (default bench/results/<name>.json under the working directory)' },
    quick: { type: 'boolean', describe: 'tiny sizes: checks the harness, the peers and the results file, measures nothing' },
  },
  run(args) {
    // This file runs as dist/src/cli/bench.js; the runner is dist/bench/run.js.
    const runner = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'run.js');
    const extra: string[] = [];
    for (const flag of ['kernel', 'name', 'out'] as const) {
      if (args.flags[flag] !== undefined) extra.push(`--${flag}`, String(args.flags[flag]));
    }
    if (args.flags.quick) extra.push('--quick');
    if (args.json) extra.push('--json');
    const r = spawnSync(process.execPath, [runner, ...extra], { stdio: 'inherit' });
    return r.status ?? 1;
  },
});
