// `npm start`: the main demo on embedded synthetic data (no files needed).
import { trainMoons } from './moons.js';
import { getBackend } from '../src/index.js';

const backend = getBackend().name;
console.log(`Tessera demo: 2-layer MLP on two moons (backend: ${backend})`);
const r = trainMoons({ log: (s) => console.log('  ' + s) });
console.log(`final loss ${r.loss.toFixed(4)}, accuracy ${(100 * r.accuracy).toFixed(1)}%`);
