// Reproduces examples/spl/results/: the six-arm SPL experiment at the default sizes
// (3 seeds), then the Grad-CAM strip of seed 0's SPL student in results/gradcam/.
// The same as `tessera spl --out examples/spl/results` and
// `tessera spl --arms scratch,spl --seeds 0 --out examples/spl/results/gradcam`.
// Usage (after npm run build): node dist/examples/spl/reproduce.js [results folder]
import { join } from 'node:path';
import { runCli } from '../../src/cli/commands.js';
import '../../src/cli/spl.js';

const out = process.argv[2] ?? join('examples', 'spl', 'results');
let code = await runCli(['spl', '--out', out]);
if (code === 0) code = await runCli(['spl', '--arms', 'scratch,spl', '--seeds', '0', '--out', join(out, 'gradcam')]);
process.exit(code);
