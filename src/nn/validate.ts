// Checks of module constructor settings: an unknown option key, a negative or
// fractional size or a probability outside [0, 1] is an Error naming the
// class and the setting, at construction rather than at the first forward.
import { checkOptions } from '../ops/util.js';

/** The options every module with parameters takes (ModuleOptions). */
export const MODULE_KEYS = ['backend', 'generator'] as const;

/** torch's keyword names that Tessera spells differently, for the hint of an unknown key. */
const TORCH_NAMES: Record<string, string> = {
  num_layers: 'numLayers', batch_first: 'batchFirst', padding_idx: 'paddingIdx', elementwise_affine: 'elementwiseAffine',
  dim_feedforward: 'dimFeedforward', norm_first: 'normFirst', layer_norm_eps: 'layerNormEps', track_running_stats: 'trackRunningStats',
  padding_mode: 'paddingMode', negative_slope: 'alpha',
};

/** Rejects keys of `opts` outside `valid`, suggesting the closest valid key (or Tessera's name for a torch one). */
export function moduleOptions(cls: string, opts: unknown, valid: readonly string[]): void {
  checkOptions(cls, opts, valid, TORCH_NAMES);
}

/** A size: an integer >= min (default 0). */
export function sizeSetting(cls: string, name: string, v: unknown, min = 0): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`${cls}: ${name} must be an integer >= ${min}, got ${String(v)}`);
  }
}

/** A probability in [0, 1]. */
export function probabilitySetting(cls: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`${cls}: ${name} must be in [0, 1], got ${String(v)}`);
}

/** A finite positive number (eps and the like). */
export function positiveSetting(cls: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${cls}: ${name} must be a finite number > 0, got ${String(v)}`);
}
