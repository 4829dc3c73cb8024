// `npm start`: the main demo on synthetic data made in code (no files needed):
// GCN and SR-GCN trained on biased samples of a synthetic graph, and the gain.
import { getBackend } from '../src/index.js';
import { runSrgnnDemo } from './demo-srgnn.js';

console.log(`Tessera demo (backend: ${getBackend().name})`);
await runSrgnnDemo();
