// A weakly-labelled video benchmark made in code, for SPL. A clip is a small
// RGB video [3, frames, size, size] of one object (a shape) moving in one
// direction over a noisy, cluttered background. A target class is a pair
// (shape, motion), so telling classes apart needs both what moves and how.
//
// Target data: a small clean set (train / test), every clip showing its class.
// Web data: "untrimmed videos" retrieved by a query (a target class c, the weak
// label of all their clips); each clip of such a video shows
//  - the true action: c's shape moving c's way (probability `trueFraction`),
//  - a sub-concept shared with another class: c's shape with the motion of a
//    partner class, or the partner's shape with c's motion (`subFraction`),
//  - background: clutter and no shape (the rest).
// The weak labels are thus noisy in a structured way: the wrong clips of query c
// look like the few classes that share a factor with c, not like random classes.
import * as T from '../../index.js';

export const SHAPES = ['square', 'disk', 'cross', 'ring'] as const;
export const MOTIONS = ['right', 'left', 'down', 'up'] as const;
const DIRECTIONS: [number, number][] = [[1, 0], [-1, 0], [0, 1], [0, -1]]; // (dx, dy) per motion

export type ClipContent = 'true' | 'sub-shape' | 'sub-motion' | 'background';

export interface BenchmarkOptions {
  /** Frames per clip; default 8. */
  frames?: number;
  /** Height and width of a frame; default 32. */
  size?: number;
  /** Shapes used (a prefix of SHAPES); default 3. */
  shapes?: number;
  /** Motions used (a prefix of MOTIONS); default 3. */
  motions?: number;
  /** Clean target clips per class for training; default 8. */
  targetTrain?: number;
  /** Clean target clips per class for testing; default 20. */
  targetTest?: number;
  /** Untrimmed web videos per class (query); default 4. */
  videosPerClass?: number;
  /** Clips cut from each web video; default 16. */
  clipsPerVideo?: number;
  /** Fraction of web clips showing the true action; default 0.45. */
  trueFraction?: number;
  /** Fraction of web clips showing a sub-concept shared with the partner class; default 0.35 (background: the rest). */
  subFraction?: number;
  seed?: number;
}

const OPTION_KEYS = ['frames', 'size', 'shapes', 'motions', 'targetTrain', 'targetTest', 'videosPerClass', 'clipsPerVideo', 'trueFraction', 'subFraction', 'seed'];

/** Clips [N, 3, frames, size, size] in one buffer, with labels and what each clip shows. */
export interface ClipSet {
  data: Float32Array;
  /** [3, frames, size, size] of one clip. */
  clipShape: [number, number, number, number];
  /** The class of the clean clips, the weak label (query) of web clips. */
  labels: Int32Array;
  /** The class a clip actually shows (its shape and motion), -1 for background. */
  shown: Int32Array;
  content: ClipContent[];
  /** Web clips: the video each clip was cut from. */
  video?: Int32Array;
  length: number;
}

export interface VideoBenchmark {
  numClasses: number;
  classNames: string[];
  /** The class sharing c's shape whose motion c's sub-shape clips show. */
  shapePartner: number[];
  /** The class sharing c's motion whose shape c's sub-motion clips show. */
  motionPartner: number[];
  targetTrain: ClipSet;
  targetTest: ClipSet;
  web: ClipSet;
  options: Required<BenchmarkOptions>;
}

export function benchmarkOptions(opts: BenchmarkOptions = {}): Required<BenchmarkOptions> {
  for (const k of Object.keys(opts)) if (!OPTION_KEYS.includes(k)) throw new Error(`videoBenchmark: unknown option '${k}' (options: ${OPTION_KEYS.join(', ')})`);
  const o: Required<BenchmarkOptions> = {
    frames: 8, size: 32, shapes: 3, motions: 3, targetTrain: 8, targetTest: 20,
    videosPerClass: 4, clipsPerVideo: 16, trueFraction: 0.45, subFraction: 0.35, seed: 0, ...opts,
  };
  const ints: [string, number, number, number][] = [['frames', o.frames, 2, 64], ['size', o.size, 16, 256], ['shapes', o.shapes, 2, SHAPES.length],
    ['motions', o.motions, 2, MOTIONS.length], ['targetTrain', o.targetTrain, 1, 1e6], ['targetTest', o.targetTest, 1, 1e6],
    ['videosPerClass', o.videosPerClass, 1, 1e6], ['clipsPerVideo', o.clipsPerVideo, 1, 1e6]];
  for (const [name, v, lo, hi] of ints) {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`videoBenchmark: ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
  }
  if (!(o.trueFraction >= 0 && o.subFraction >= 0 && o.trueFraction + o.subFraction <= 1)) {
    throw new Error(`videoBenchmark: trueFraction ${o.trueFraction} and subFraction ${o.subFraction} must be >= 0 with a sum <= 1`);
  }
  return o;
}

/** Class id of (shape, motion). */
const classOf = (shape: number, motion: number, motions: number) => shape * motions + motion;

/** Whether pixel offset (dx, dy) from the centre lies inside shape s of half-size r. */
function inside(s: number, dx: number, dy: number, r: number): boolean {
  const ax = Math.abs(dx), ay = Math.abs(dy);
  switch (SHAPES[s]) {
    case 'square': return ax <= r && ay <= r;
    case 'disk': return dx * dx + dy * dy <= r * r;
    case 'cross': return (ax <= r && ay <= r * 0.34) || (ay <= r && ax <= r * 0.34);
    case 'ring': { const d = Math.max(ax, ay); return d <= r && d >= r * 0.55; }
  }
  return false;
}

class Renderer {
  constructor(readonly o: Required<BenchmarkOptions>, readonly rng: T.Rng) {}

  get clipSize(): number { return 3 * this.o.frames * this.o.size * this.o.size; }

  /**
   * Renders into out (offset: start of the clip): background noise and static clutter, and the
   * shape moving in the given direction (shape < 0: background only).
   */
  render(out: Float32Array, offset: number, shape: number, motion: number): void {
    const { frames: F, size: S } = this.o, g = this.rng, plane = F * S * S;
    const base = [0, 1, 2].map(() => -0.6 + 0.3 * g.uniform());
    for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) out[offset + c * plane + i] = base[c] + 0.15 * g.normal();
    // Clutter: a few static blocks of random colour, the same in every frame.
    const blocks = 2 + g.int(3);
    for (let b = 0; b < blocks; b++) {
      const w = 2 + g.int(Math.max(1, S >> 3)), h = 2 + g.int(Math.max(1, S >> 3)), x0 = g.int(S - w), y0 = g.int(S - h);
      const col = [0, 1, 2].map(() => -0.4 + 0.8 * g.uniform());
      for (let f = 0; f < F; f++) for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) {
        for (let c = 0; c < 3; c++) out[offset + c * plane + (f * S + y) * S + x] = col[c];
      }
    }
    if (shape < 0) return;
    const r = S * (0.14 + 0.05 * g.uniform());
    const speed = S * (0.045 + 0.02 * g.uniform());
    const [dx, dy] = DIRECTIONS[motion];
    const travel = speed * (F - 1);
    // Start so that the whole path stays in the frame, jittered across it.
    const lo = r + 1, hi = S - r - 1;
    const along = (d: number) => (d > 0 ? lo + g.uniform() * Math.max(0, hi - lo - travel) : d < 0 ? hi - g.uniform() * Math.max(0, hi - lo - travel) : lo + g.uniform() * (hi - lo));
    const x0 = along(dx), y0 = along(dy);
    // A bright colour: one channel high, the others random.
    const col = [0, 1, 2].map(() => 0.2 + 0.6 * g.uniform());
    col[g.int(3)] = 1.2;
    for (let f = 0; f < F; f++) {
      const cx = x0 + dx * speed * f, cy = y0 + dy * speed * f;
      const ylo = Math.max(0, Math.floor(cy - r)), yhi = Math.min(S - 1, Math.ceil(cy + r));
      const xlo = Math.max(0, Math.floor(cx - r)), xhi = Math.min(S - 1, Math.ceil(cx + r));
      for (let y = ylo; y <= yhi; y++) for (let x = xlo; x <= xhi; x++) {
        if (!inside(shape, x + 0.5 - cx, y + 0.5 - cy, r)) continue;
        for (let c = 0; c < 3; c++) out[offset + c * plane + (f * S + y) * S + x] = col[c];
      }
    }
  }
}

function emptySet(n: number, o: Required<BenchmarkOptions>, web: boolean): ClipSet {
  return {
    data: new Float32Array(n * 3 * o.frames * o.size * o.size), clipShape: [3, o.frames, o.size, o.size],
    labels: new Int32Array(n), shown: new Int32Array(n), content: new Array<ClipContent>(n).fill('true'),
    video: web ? new Int32Array(n) : undefined, length: n,
  };
}

/** Renders the clean target sets and the weakly-labelled web clips from a seed. */
export function videoBenchmark(opts: BenchmarkOptions = {}): VideoBenchmark {
  const o = benchmarkOptions(opts);
  const K = o.shapes * o.motions;
  const rng = new T.Rng(o.seed);
  const renderer = new Renderer(o, rng);
  const classNames = Array.from({ length: K }, (_, c) => `${SHAPES[Math.floor(c / o.motions)]}-${MOTIONS[c % o.motions]}`);
  // Each class shares its shape with one partner and its motion with another (a random derangement
  // of the other factor), so the wrong clips of a query concentrate on two neighbouring classes.
  const partnerMotion = (m: number, s: number) => (m + 1 + ((s + o.seed) % (o.motions - 1))) % o.motions;
  const partnerShape = (s: number, m: number) => (s + 1 + ((m + o.seed) % (o.shapes - 1))) % o.shapes;
  const factors = (c: number) => [Math.floor(c / o.motions), c % o.motions];
  const shapePartner = Array.from({ length: K }, (_, c) => { const [s, m] = factors(c); return classOf(s, partnerMotion(m, s), o.motions); });
  const motionPartner = Array.from({ length: K }, (_, c) => { const [s, m] = factors(c); return classOf(partnerShape(s, m), m, o.motions); });

  const clean = (perClass: number): ClipSet => {
    const set = emptySet(perClass * K, o, false);
    for (let i = 0; i < set.length; i++) {
      const c = i % K;
      set.labels[i] = c;
      set.shown[i] = c;
      renderer.render(set.data, i * renderer.clipSize, Math.floor(c / o.motions), c % o.motions);
    }
    return set;
  };
  const targetTrain = clean(o.targetTrain);
  const targetTest = clean(o.targetTest);

  const web = emptySet(K * o.videosPerClass * o.clipsPerVideo, o, true);
  let i = 0;
  for (let c = 0; c < K; c++) {
    const s = Math.floor(c / o.motions), m = c % o.motions;
    for (let v = 0; v < o.videosPerClass; v++) {
      for (let k = 0; k < o.clipsPerVideo; k++, i++) {
        web.labels[i] = c;
        web.video![i] = c * o.videosPerClass + v;
        const u = rng.uniform();
        let shape = s, motion = m, content: ClipContent = 'true';
        if (u >= o.trueFraction && u < o.trueFraction + o.subFraction) {
          // Half the sub-concept clips share the shape, half the motion.
          if (rng.uniform() < 0.5) { motion = partnerMotion(m, s); content = 'sub-shape'; } else { shape = partnerShape(s, m); content = 'sub-motion'; }
        } else if (u >= o.trueFraction + o.subFraction) {
          shape = -1;
          content = 'background';
        }
        web.content[i] = content;
        web.shown[i] = shape < 0 ? -1 : classOf(shape, motion, o.motions);
        renderer.render(web.data, i * renderer.clipSize, shape, motion);
      }
    }
  }
  return { numClasses: K, classNames, shapePartner, motionPartner, targetTrain, targetTest, web, options: o };
}

/** The clips at `indices` as a tensor [n, 3, frames, size, size]. */
export function clipBatch(set: ClipSet, indices: ArrayLike<number>, backend?: string): T.Tensor {
  const size = set.clipShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= set.length) throw new Error(`clipBatch: index ${i} is outside the ${set.length} clips`);
    out.set(set.data.subarray(i * size, (i + 1) * size), k * size);
  }
  return T.fromArray(out, [indices.length, ...set.clipShape], { backend });
}
