// Trains the two-moons MLP of examples/moons.ts in the browser, on the
// default backend that the bundle chose (webgpu, else reference), and draws
// the decision boundary. Reads go through `await t.data()`: webgpu has no
// synchronous read. When done it sets window.moonsResult (and on failure
// window.moonsError), which test/browser.test.ts waits for.
// Query parameters: ?steps=N (default 300).
import * as T from '../../src/browser.js';

export interface MoonsPageResult { backend: string; accuracy: number; loss: number; steps: number; ms: number }
declare global {
  interface Window { moonsResult?: MoonsPageResult; moonsError?: string }
}

const HIDDEN = 32;
const POINTS = 512;
const LOG_EVERY = 25;    // also bounds how far recording runs ahead of the GPU
const GRID = 80;         // decision-boundary resolution, cells per side
// The plotted square in data coordinates; the moons span about [-1.2, 2.2] x [-0.7, 1.2].
const VIEW = { xMin: -1.6, xMax: 2.6, yMin: -1.35, yMax: 1.85 };
const CLASS_RGB = [[37, 99, 235], [234, 88, 12]] as const;

function element<K extends keyof HTMLElementTagNameMap>(id: string, tag: K): HTMLElementTagNameMap[K] {
  const e = document.getElementById(id);
  if (!(e instanceof HTMLElement) || e.tagName.toLowerCase() !== tag) throw new Error(`page: no <${tag} id="${id}">`);
  return e as HTMLElementTagNameMap[K];
}

const status = element('status', 'p');
const log = element('log', 'pre');
const canvas = element('plot', 'canvas');

async function scalar(t: T.Tensor): Promise<number> {
  const v = (await t.data())[0];
  t.dispose();
  return v;
}

/** Class-1 probabilities of the model on the GRID x GRID cell centres, row 0 at the top. */
async function probabilityGrid(model: T.nn.Sequential): Promise<Float32Array> {
  const points = new Float32Array(GRID * GRID * 2);
  for (let row = 0; row < GRID; row++) {
    for (let col = 0; col < GRID; col++) {
      const i = row * GRID + col;
      points[2 * i] = VIEW.xMin + ((col + 0.5) / GRID) * (VIEW.xMax - VIEW.xMin);
      points[2 * i + 1] = VIEW.yMax - ((row + 0.5) / GRID) * (VIEW.yMax - VIEW.yMin);
    }
  }
  const probs = T.scope(() => T.noGrad(() => T.softmax(model.forward(T.fromArray(points, [GRID * GRID, 2])), 1)));
  const p = (await probs.data()) as Float32Array;
  probs.dispose();
  return Float32Array.from({ length: GRID * GRID }, (_, i) => p[2 * i + 1]);
}

function draw(p1: Float32Array, data: T.LabelledPoints): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('page: no 2d canvas context');
  const { width, height } = canvas;
  const cell = ctx.createImageData(GRID, GRID);
  for (let i = 0; i < GRID * GRID; i++) {
    // Pale class colours, shading to white where the model is unsure.
    const p = p1[i], confidence = Math.abs(2 * p - 1);
    const rgb = CLASS_RGB[p > 0.5 ? 1 : 0];
    for (let c = 0; c < 3; c++) cell.data[4 * i + c] = 255 - (255 - rgb[c]) * 0.45 * confidence;
    cell.data[4 * i + 3] = 255;
  }
  const grid = document.createElement('canvas');
  grid.width = grid.height = GRID;
  grid.getContext('2d')?.putImageData(cell, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(grid, 0, 0, width, height);
  for (let i = 0; i < data.n; i++) {
    const px = ((data.x[2 * i] - VIEW.xMin) / (VIEW.xMax - VIEW.xMin)) * width;
    const py = ((VIEW.yMax - data.x[2 * i + 1]) / (VIEW.yMax - VIEW.yMin)) * height;
    ctx.fillStyle = `rgb(${CLASS_RGB[data.y[i]].join(',')})`;
    ctx.beginPath();
    ctx.arc(px, py, 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
}

async function train(steps: number): Promise<MoonsPageResult> {
  const started = performance.now();
  const backend = T.getBackend().name;
  status.textContent = `backend: ${backend}` +
    (T.defaultBackend.webgpuError ? ` (webgpu unavailable: ${T.defaultBackend.webgpuError})` : '') + ' — training…';
  T.manualSeed(0);
  const data = T.twoMoons(POINTS, 0.1, 0);
  const x = T.fromArray(data.x, [data.n, 2]);
  const y = T.fromArray(data.y, [data.n]);
  const model = new T.nn.Sequential(new T.nn.Linear(2, HIDDEN, { activation: 'tanh' }), new T.nn.Linear(HIDDEN, 2));
  const opt = new T.optim.Adam(model.parameters(), { lr: 0.02 });
  let loss = NaN;
  for (let step = 1; step <= steps; step++) {
    const l = T.scope(() => {
      opt.zeroGrad();
      const out = T.crossEntropy(model.forward(x), y);
      out.backward();
      opt.step();
      return out;
    });
    if (step % LOG_EVERY === 0 || step === 1 || step === steps) {
      loss = await scalar(l);
      log.textContent += `step ${step}  loss ${loss.toFixed(4)}\n`;
    } else {
      l.dispose();
    }
  }
  const accuracy = await scalar(T.scope(() => T.noGrad(() => T.mean(T.eq(T.argmax(model.forward(x), 1), y)))));
  draw(await probabilityGrid(model), data);
  x.dispose(); y.dispose();
  opt.dispose(); model.dispose();
  return { backend, accuracy, loss, steps, ms: Math.round(performance.now() - started) };
}

const stepsParam = Number(new URLSearchParams(location.search).get('steps') ?? 300);
train(Number.isInteger(stepsParam) && stepsParam > 0 ? stepsParam : 300).then(
  (r) => {
    status.textContent = `backend: ${r.backend} — accuracy ${(100 * r.accuracy).toFixed(1)}% after ${r.steps} steps ` +
      `(loss ${r.loss.toFixed(4)}, ${(r.ms / 1000).toFixed(1)} s)`;
    window.moonsResult = r;
  },
  (e: unknown) => {
    const message = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
    status.textContent = `failed: ${message}`;
    window.moonsError = message;
  },
);
