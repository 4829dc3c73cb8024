// One seeded generator for all backends: numbers are drawn on the host and then
// written to the backend, so the same seed gives the same tensor everywhere.
// xoshiro128** seeded through splitmix32.

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

export class Rng {
  private s = new Uint32Array(4);
  private spareNormal: number | null = null;

  constructor(seed = 0) { this.seed(seed); }

  seed(seed: number): void {
    let st = seed | 0;
    for (let i = 0; i < 4; i++) { const [ns, v] = splitmix32(st); st = ns; this.s[i] = v; }
    this.spareNormal = null;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 24 random bits (exactly representable in float32). */
  uniform(): number { return (this.nextU32() >>> 8) / 16777216; }

  /**
   * Fills `out` with the next out.length uniform() draws. The same stream as calling uniform() in a loop,
   * with the state held in locals: dropout draws one number per element every step, and the per-call
   * typed-array state updates made it a fifth of a GCN epoch.
   */
  fillUniform(out: Float32Array): Float32Array {
    let [s0, s1, s2, s3] = this.s;
    for (let i = 0; i < out.length; i++) {
      const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
      s2 ^= t; s3 = rotl(s3, 11);
      out[i] = (result >>> 8) / 16777216;
    }
    this.s[0] = s0; this.s[1] = s1; this.s[2] = s2; this.s[3] = s3;
    return out;
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== null) { const v = this.spareNormal; this.spareNormal = null; return v; }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number { return Math.floor(this.uniform() * n); }

  /** Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) { const j = this.int(i + 1); const t = p[i]; p[i] = p[j]; p[j] = t; }
    return p;
  }
}

function rotl(x: number, k: number): number { return (x << k) | (x >>> (32 - k)); }

/** The global generator behind rand/randn/randint/dropout; `manualSeed` resets it. */
export const globalRng = new Rng(0);
export function manualSeed(seed: number): void { globalRng.seed(seed); }
