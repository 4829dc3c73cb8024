// Sub-pseudo labels (SPL; Li et al., "Learning from Weakly-Labeled Web Videos
// via Exploring Sub-Concepts", AAAI 2022). Every clip of a weakly-labelled
// (query-labelled) video has a weak label w and a teacher prediction t; the
// pair (w, t) names a cell of the w x t confusion matrix, and the cells are
// the new, finer label space a student is pre-trained on:
//  - raw SPL: a diagonal cell (w = t) keeps its class id w; every off-diagonal
//    cell (w, t) becomes a new class (ids numClasses.. in row-major order);
//  - SPL-B (compact): per weak label one "agreed" class (id w, the diagonal)
//    and one "disagreed" class (id numClasses + w: every t != w).
// Cells holding fewer than tau clips are either merged into their weak class
// (the diagonal class w) or dropped (label -1), by option. The paper leaves
// the threshold's unit open; here tau counts clips.

import { countHeatmap } from './svg.js';

export type SplVariant = 'raw' | 'compact';
export type SmallCells = 'merge' | 'drop';

export interface SplOptions {
  /** 'raw' (a class per confusion cell) or 'compact' (SPL-B: agreed / disagreed per weak label). Default 'raw'. */
  variant?: SplVariant;
  /** tau: an off-diagonal cell (raw) or disagreed class (compact) with fewer clips is merged or dropped. Default 1 (keep every non-empty cell). */
  minClips?: number;
  /** What happens to the clips of a cell under tau: 'merge' into the weak class (default) or 'drop' (label -1). */
  smallCells?: SmallCells;
}

const OPTION_KEYS = ['variant', 'minClips', 'smallCells'];

/** One class of the SPL label space: the weak label it came from and the teacher predictions it holds. */
export interface SplClass {
  id: number;
  weak: number;
  /** Teacher predictions of its clips: one class for a raw cell, every t != weak for a compact "disagreed" class. */
  teacher: number[];
  /** Clips labelled with this class. */
  count: number;
  /** 'agreed' for a diagonal class, 'cell' for a raw off-diagonal cell, 'disagreed' for SPL-B's second class. */
  kind: 'agreed' | 'cell' | 'disagreed';
}

export interface SplLabels {
  variant: SplVariant;
  numClasses: number;
  /** Counts [numClasses x numClasses], row = weak label, column = teacher prediction (row-major). */
  confusion: Int32Array;
  /** SPL class per confusion cell (row-major), -1 for a dropped or empty cell. */
  cellClass: Int32Array;
  /** The SPL classes with ids 0..numSplClasses-1; ids below numClasses are the diagonal (agreed) classes. */
  classes: SplClass[];
  numSplClasses: number;
  /** SPL class of every clip, -1 where its cell was dropped. */
  labels: Int32Array;
  /** Clips whose weak label and teacher prediction agree. */
  agreement: number;
}

function checkLabels(fn: string, name: string, v: ArrayLike<number>, numClasses: number): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isInteger(v[i]) || v[i] < 0 || v[i] >= numClasses) {
      throw new Error(`${fn}: ${name}[${i}] = ${v[i]} is not a class in [0, ${numClasses})`);
    }
  }
}

/** Counts [numClasses x numClasses] of (weak label, teacher prediction) pairs, row-major by weak label. */
export function confusionMatrix(weak: ArrayLike<number>, teacher: ArrayLike<number>, numClasses: number): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`confusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
  if (weak.length !== teacher.length) throw new Error(`confusionMatrix: ${weak.length} weak labels but ${teacher.length} teacher predictions`);
  checkLabels('confusionMatrix', 'weak', weak, numClasses);
  checkLabels('confusionMatrix', 'teacher', teacher, numClasses);
  const m = new Int32Array(numClasses * numClasses);
  for (let i = 0; i < weak.length; i++) m[weak[i] * numClasses + teacher[i]]++;
  return m;
}

/** The SPL label space of clips with weak labels and teacher predictions, and each clip's SPL class. */
export function subPseudoLabels(weak: ArrayLike<number>, teacher: ArrayLike<number>, numClasses: number, opts: SplOptions = {}): SplLabels {
  for (const k of Object.keys(opts)) if (!OPTION_KEYS.includes(k)) throw new Error(`subPseudoLabels: unknown option '${k}' (options: ${OPTION_KEYS.join(', ')})`);
  const variant = opts.variant ?? 'raw', small = opts.smallCells ?? 'merge', tau = opts.minClips ?? 1;
  if (variant !== 'raw' && variant !== 'compact') throw new Error(`subPseudoLabels: variant must be 'raw' or 'compact', got '${variant}'`);
  if (small !== 'merge' && small !== 'drop') throw new Error(`subPseudoLabels: smallCells must be 'merge' or 'drop', got '${small}'`);
  if (!Number.isInteger(tau) || tau < 1) throw new Error(`subPseudoLabels: minClips must be a positive integer, got ${tau}`);
  const K = numClasses;
  const confusion = confusionMatrix(weak, teacher, K);
  const cellClass = new Int32Array(K * K).fill(-1);
  const classes: SplClass[] = [];
  for (let w = 0; w < K; w++) classes.push({ id: w, weak: w, teacher: [w], count: 0, kind: 'agreed' });
  // Cells under tau go to the weak class (merge) or nowhere (drop).
  const fallback = (w: number) => (small === 'merge' ? w : -1);
  for (let w = 0; w < K; w++) {
    cellClass[w * K + w] = w;
    if (variant === 'raw') {
      for (let t = 0; t < K; t++) {
        if (t === w || confusion[w * K + t] === 0) continue;
        if (confusion[w * K + t] < tau) { cellClass[w * K + t] = fallback(w); continue; }
        cellClass[w * K + t] = classes.length;
        classes.push({ id: classes.length, weak: w, teacher: [t], count: 0, kind: 'cell' });
      }
    } else {
      let disagreed = 0;
      const others: number[] = [];
      for (let t = 0; t < K; t++) if (t !== w && confusion[w * K + t] > 0) { disagreed += confusion[w * K + t]; others.push(t); }
      if (disagreed === 0) continue;
      const id = disagreed < tau ? fallback(w) : classes.length;
      if (id === classes.length) classes.push({ id, weak: w, teacher: others, count: 0, kind: 'disagreed' });
      for (const t of others) cellClass[w * K + t] = id;
    }
  }
  const labels = new Int32Array(weak.length);
  let agreement = 0;
  for (let i = 0; i < weak.length; i++) {
    const c = cellClass[weak[i] * K + teacher[i]];
    labels[i] = c;
    if (c >= 0) classes[c].count++;
    if (weak[i] === teacher[i]) agreement++;
  }
  return { variant, numClasses: K, confusion, cellClass, classes, numSplClasses: classes.length, labels, agreement };
}

/** Indices of the clips whose weak label equals the teacher's prediction (the agreement-filtering baseline). */
export function agreementFilter(weak: ArrayLike<number>, teacher: ArrayLike<number>): Int32Array {
  if (weak.length !== teacher.length) throw new Error(`agreementFilter: ${weak.length} weak labels but ${teacher.length} teacher predictions`);
  const keep: number[] = [];
  for (let i = 0; i < weak.length; i++) if (weak[i] === teacher[i]) keep.push(i);
  return Int32Array.from(keep);
}

/**
 * The confusion matrix of an SPL label space as an SVG heat map (rows: weak labels, columns:
 * teacher predictions); the off-diagonal cells that became SPL classes of their own are outlined.
 */
export function splHeatmap(spl: SplLabels, classNames: string[], title?: string): string {
  const K = spl.numClasses;
  if (classNames.length !== K) throw new Error(`splHeatmap: ${classNames.length} class names for ${K} classes`);
  const outlined = Array.from(spl.cellClass, (c, i) => c >= K && Math.floor(i / K) !== i % K);
  return countHeatmap(spl.confusion, K, K, { title, rowLabel: 'weak label (query)', colLabel: 'teacher prediction', rowNames: classNames, colNames: classNames, outlined });
}
