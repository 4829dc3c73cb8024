// Gamma-family functions in float64 for the reference backend (the oracle) and host-side code, with
// torch's values at the poles: lgamma is +inf at 0, -1, -2, ...; digamma is -inf at +0, +inf at -0 and
// NaN at negative integers; trigamma is +inf at every pole. Negative arguments go through the reflection
// formulas; positive ones are shifted up to z >= 10 by the recurrences, then the asymptotic series, whose
// first omitted term is below 1e-14 there.

/** log |Gamma(x)| (Lanczos, g = 7, 9 terms; ~1e-15 relative). */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (!Number.isFinite(x)) return Infinity;
  if (x <= 0 && Number.isInteger(x)) return Infinity;
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const xm = x - 1;
  let a = c[0];
  const t = xm + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (xm + i);
  return 0.5 * Math.log(2 * Math.PI) + (xm + 0.5) * Math.log(t) - t + Math.log(a);
}

const SHIFT_TO = 10;

/** d/dx log Gamma(x). */
export function digamma(x: number): number {
  if (Number.isNaN(x) || x === -Infinity) return NaN;
  if (x === Infinity) return Infinity;
  if (x === 0) return Object.is(x, -0) ? Infinity : -Infinity;
  if (x < 0) {
    if (Number.isInteger(x)) return NaN;
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * x);
  }
  let acc = 0;
  for (; x < SHIFT_TO; x++) acc -= 1 / x;
  const z2 = 1 / (x * x);
  // log z - 1/(2z) - sum B_2k / (2k z^2k), k = 1..6
  const series = z2 * (-1 / 12 + z2 * (1 / 120 + z2 * (-1 / 252 + z2 * (1 / 240 + z2 * (-1 / 132 + z2 * (691 / 32760))))));
  return acc + Math.log(x) - 0.5 / x + series;
}

/** d^2/dx^2 log Gamma(x) (torch.polygamma(1, x)). */
export function trigamma(x: number): number {
  if (Number.isNaN(x) || x === -Infinity) return NaN;
  if (x === Infinity) return 0;
  if (x <= 0 && Number.isInteger(x)) return Infinity;
  if (x < 0) {
    const s = Math.sin(Math.PI * x);
    return -trigamma(1 - x) + (Math.PI * Math.PI) / (s * s);
  }
  let acc = 0;
  for (; x < SHIFT_TO; x++) acc += 1 / (x * x);
  const z = 1 / x, z2 = z * z;
  // 1/z + 1/(2z^2) + sum B_2k / z^(2k+1), k = 1..5
  const series = z + 0.5 * z2 + z * z2 * (1 / 6 + z2 * (-1 / 30 + z2 * (1 / 42 + z2 * (-1 / 30 + z2 * (5 / 66)))));
  return acc + series;
}

/** torch.remainder: the remainder of a / b with the sign of b (fmod, then moved into b's half-line). */
export function remainder(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}

/** torch.floor_divide (floor rounding), computed as torch does from fmod so that a == b * q + remainder. */
export function floorDivide(a: number, b: number): number {
  if (b === 0) return a / b;
  const mod = a % b;
  let div = (a - mod) / b;
  if (mod !== 0 && (b < 0) !== (mod < 0)) div -= 1;
  if (div === 0) return Math.sign(a / b) < 0 || Object.is(a / b, -0) ? -0 : 0;
  let q = Math.floor(div);
  if (div - q > 0.5) q += 1;
  return q;
}
