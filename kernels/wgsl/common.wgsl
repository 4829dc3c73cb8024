// Shared by every Tessera kernel module. The host puts a prelude (type aliases
// and `const` values that pick the kernel variant) and schema.wgsl (op codes,
// record structs) before this file, then appends one or more family files.
//
// Every dispatch gets its own parameter block P (sizes, strides, scalars), and
// families that take a schema record (matmul, conv, pool) get it as a uniform
// struct: shapes never appear in shader text, so one pipeline serves all shapes.

@group(0) @binding(0) var<storage, read> P: array<u32>;

// Workgroup size of the one-dimensional kernels.
const WG: u32 = 256u;

fn param_i32(i: u32) -> i32 { return bitcast<i32>(P[i]); }
fn param_f32(i: u32) -> f32 { return bitcast<f32>(P[i]); }

// Large launches are split over x and y (each at most
// maxComputeWorkgroupsPerDimension), so ids are linearised here.
struct Thread {
  @builtin(workgroup_id) group: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) local: u32,
}

fn linear_group(group: vec3<u32>, groups: vec3<u32>) -> u32 { return group.y * groups.x + group.x; }
fn group_index(t: Thread) -> u32 { return linear_group(t.group, t.groups); }
fn thread_index(t: Thread) -> u32 { return group_index(t) * WG + t.local; }

// ---- strided operands --------------------------------------------------
// Parameter layout of the strided maps (elementwise, gather, scatterAdd):
//   P[0] element count, P[1] rank (<= 8), P[2..10) shape,
//   then three operand blocks of 9 words at 10, 19, 28: offset, strides[8].
// Kernel-specific scalars follow at STRIDED_EXTRA.
const STRIDED_EXTRA: u32 = 37u;

// Element offsets of the three operands at row-major position i of the shape.
fn strided_offsets(i: u32) -> vec3<i32> {
  var offsets = vec3<i32>(param_i32(10u), param_i32(19u), param_i32(28u));
  var rest = i;
  for (var d = P[1]; d > 0u; d--) {
    let extent = P[1u + d];
    let coord = i32(rest % extent);
    rest /= extent;
    offsets += coord * vec3<i32>(param_i32(10u + d), param_i32(19u + d), param_i32(28u + d));
  }
  return offsets;
}

// ---- 3-D positions (conv, pool) -------------------------------------------

fn volume3(v: vec3<i32>) -> i32 { return v.x * v.y * v.z; }
// Row-major position p in a [extent.x, extent.y, extent.z] box, and back.
fn unflatten3(i: i32, extent: vec3<i32>) -> vec3<i32> {
  return vec3(i / (extent.y * extent.z), (i / extent.z) % extent.y, i % extent.z);
}
fn flatten3(p: vec3<i32>, extent: vec3<i32>) -> i32 { return (p.x * extent.y + p.y) * extent.z + p.z; }

// ---- math ----------------------------------------------------------------

// Infinity cannot be written as a WGSL constant (a const-expression must be
// finite), so it is made from a run-time value.
fn infinity() -> f32 {
  var bits = 0x7f800000u;
  return bitcast<f32>(bits);
}

// Bit test: compilers may assume NaN never occurs and fold x != x to false.
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn unordered(a: f32, b: f32) -> bool { return is_nan(a) || is_nan(b); }

// erfc(x) with fractional error below 1.2e-7 for every x (Chebyshev fit,
// Press et al., Numerical Recipes, erfcc). Working on erfc rather than erf
// keeps gelu accurate in the far negative tail, where 1 + erf(x) cancels.
fn erfc_approx(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let r = t * exp(-z * z + poly);
  return select(2.0 - r, r, x >= 0.0);
}

const INV_SQRT2: f32 = 0.70710678118654752;
const INV_SQRT_2PI: f32 = 0.39894228040143268;

fn gelu(x: f32) -> f32 { return 0.5 * x * erfc_approx(-x * INV_SQRT2); }

fn gelu_grad(x: f32) -> f32 {
  return 0.5 * erfc_approx(-x * INV_SQRT2) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
}

// log(1 + x) without losing the low bits of small x (Goldberg's trick:
// the rounding error of 1 + x cancels in the ratio).
fn log1p_accurate(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log(u) * (x / (u - 1.0));
}

// Math.pow semantics for negative bases (WGSL pow is only defined for x > 0):
// an integral exponent keeps the sign of odd powers, any other is NaN.
fn pow_real(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a >= 0.0) { return pow(a, b); }
  if (b != floor(b)) { return sqrt(a); } // NaN
  let magnitude = pow(-a, b);
  return select(magnitude, -magnitude, fract(b * 0.5) != 0.0);
}

fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }

const PI: f32 = 3.14159265358979324;

// erf: the odd Taylor series below 0.5 (its first omitted term is below 1e-9
// there), 1 - erfc beyond (erfc < 0.48, so no digits are lost).
fn erf_f32(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    let s = x * x;
    let p = 1.0 + s * (-1.0 / 3.0 + s * (1.0 / 10.0 + s * (-1.0 / 42.0 + s * (1.0 / 216.0 + s * (-1.0 / 1320.0
      + s * (1.0 / 9360.0))))));
    return 1.1283791670955126 * x * p;
  }
  return 1.0 - erfc_approx(x);
}

// atan to a few ulp (Cephes atanf: reduction to |x| <= tan(pi/8), then an
// odd polynomial); WGSL's built-in atan and atan2 only promise 4096 ulp.
fn atan_f32(x: f32) -> f32 {
  var t = abs(x);
  var base = 0.0;
  if (t > 2.414213562373095) {
    base = 0.5 * PI;
    t = -1.0 / t;
  } else if (t > 0.4142135623730950) {
    base = 0.25 * PI;
    t = (t - 1.0) / (t + 1.0);
  }
  let z = t * t;
  let r = base + (((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * t + t;
  return select(r, -r, x < 0.0);
}

fn sign_bit(x: f32) -> bool { return (bitcast<u32>(x) & 0x80000000u) != 0u; }

// atan2 as C's (signed zeros and infinities included), from atan of the ratio in [0, 1].
fn atan2_f32(y: f32, x: f32) -> f32 {
  if (is_nan(x) || is_nan(y)) { return x + y; }
  let ax = abs(x);
  let ay = abs(y);
  let big = max(ax, ay);
  var ratio = min(ax, ay) / big;
  if (big == 0.0) { ratio = 0.0; }
  if (is_inf(ax) && is_inf(ay)) { ratio = 1.0; }
  var a = atan_f32(ratio);
  if (ay > ax) { a = 0.5 * PI - a; }
  if (sign_bit(x)) { a = PI - a; }
  return select(a, -a, sign_bit(y));
}

// The gamma family as the reference backend (src/backend/reference/special.ts):
// negative arguments through the reflection formulas, positive ones shifted up
// to z >= 6 by the recurrences, then the asymptotic series (first omitted term
// below 1e-8 relative there).
fn lgamma_positive(x: f32) -> f32 {
  var z = x;
  var shifted = 1.0;
  while (z < 6.0) { shifted *= z; z += 1.0; }
  let w = 1.0 / z;
  let w2 = w * w;
  let series = w * (1.0 / 12.0 + w2 * (-1.0 / 360.0 + w2 * (1.0 / 1260.0)));
  return (z - 0.5) * log(z) - z + 0.91893853320467274 + series - log(shifted);
}

fn lgamma_f32(x: f32) -> f32 {
  if (is_inf(x)) { return infinity(); }
  if (x <= 0.0 && x == floor(x)) { return infinity(); }
  if (x < 0.5) { return log(PI / abs(sin(PI * x))) - lgamma_positive(1.0 - x); }
  return lgamma_positive(x);
}

fn digamma_f32(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x == 0.0) { return select(-infinity(), infinity(), sign_bit(x)); }
  var z = x;
  var acc = 0.0;
  if (x < 0.0) {
    if (x == floor(x)) { return sqrt(-1.0 - abs(x)); } // NaN at the poles (and -inf), as torch
    acc = -PI / tan(PI * x);
    z = 1.0 - x;
  }
  if (is_inf(z)) { return z; }
  while (z < 6.0) { acc -= 1.0 / z; z += 1.0; }
  let w2 = 1.0 / (z * z);
  let series = w2 * (-1.0 / 12.0 + w2 * (1.0 / 120.0 + w2 * (-1.0 / 252.0 + w2 * (1.0 / 240.0))));
  return acc + log(z) - 0.5 / z + series;
}

fn trigamma_f32(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x <= 0.0 && x == floor(x)) {
    if (is_inf(x)) { return sqrt(-1.0 - abs(x)); } // NaN at -inf
    return infinity();
  }
  if (is_inf(x)) { return 0.0; }
  var z = x;
  var sign = 1.0;
  var acc = 0.0;
  if (x < 0.0) {
    let s = sin(PI * x);
    acc = PI * PI / (s * s);
    sign = -1.0;
    z = 1.0 - x;
  }
  var shifted = 0.0;
  while (z < 6.0) { shifted += 1.0 / (z * z); z += 1.0; }
  let w = 1.0 / z;
  let w2 = w * w;
  let series = w + 0.5 * w2 + w * w2 * (1.0 / 6.0 + w2 * (-1.0 / 30.0 + w2 * (1.0 / 42.0 + w2 * (-1.0 / 30.0))));
  return acc + sign * (shifted + series);
}

fn unary_f32(op: u32, x: f32, alpha: f32) -> f32 {
  switch op {
    case UNARY_NEG: { return -x; }
    case UNARY_EXP: { return exp(x); }
    case UNARY_LOG: { return log(x); }
    case UNARY_LOG1P: { return log1p_accurate(x); }
    case UNARY_SQRT: { return sqrt(x); }
    case UNARY_RSQRT: { return inverseSqrt(x); }
    case UNARY_ABS: { return abs(x); }
    case UNARY_SIGN: { return sign(x); }
    // tanh(15) rounds to 1 in f32; clamping avoids inf/inf inside tanh (and would turn NaN into -1).
    case UNARY_TANH: { return select(tanh(clamp(x, -15.0, 15.0)), x, is_nan(x)); }
    case UNARY_SIGMOID: { return 1.0 / (1.0 + exp(-x)); }
    // WGSL max may drop a NaN; relu keeps it, as torch.
    case UNARY_RELU: { return select(max(x, 0.0), x, is_nan(x)); }
    case UNARY_LEAKY_RELU: { return select(alpha * x, x, x > 0.0); }
    case UNARY_ELU: { return select(alpha * (exp(x) - 1.0), x, x > 0.0); }
    case UNARY_GELU: { return gelu(x); }
    case UNARY_GELU_GRAD: { return gelu_grad(x); }
    case UNARY_SOFTPLUS: { return max(x, 0.0) + log1p_accurate(exp(-abs(x))); }
    case UNARY_SIN: { return sin(x); }
    case UNARY_COS: { return cos(x); }
    case UNARY_SQUARE: { return x * x; }
    case UNARY_RECIPROCAL: { return 1.0 / x; }
    case UNARY_FLOOR: { return floor(x); }
    case UNARY_SILU: { return x / (1.0 + exp(-x)); }
    case UNARY_MISH: { return x * tanh(min(max(x, 0.0) + log1p_accurate(exp(-abs(x))), 15.0)); }
    case UNARY_HARDSWISH: { return x * clamp(x + 3.0, 0.0, 6.0) / 6.0; }
    case UNARY_LOG_SIGMOID: { return min(x, 0.0) - log1p_accurate(exp(-abs(x))); }
    case UNARY_ERF: { return erf_f32(x); }
    case UNARY_ATAN: { return atan_f32(x); }
    case UNARY_CEIL: { return ceil(x); }
    case UNARY_ROUND: { return round(x); } // WGSL's round is ties to even, as torch.round
    case UNARY_TRUNC: { return trunc(x); }
    case UNARY_LGAMMA: { return lgamma_f32(x); }
    case UNARY_DIGAMMA: { return digamma_f32(x); }
    case UNARY_TRIGAMMA: { return trigamma_f32(x); }
    case UNARY_ISNAN: { return select(0.0, 1.0, is_nan(x)); }
    case UNARY_ISINF: { return select(0.0, 1.0, is_inf(x)); }
    case UNARY_ISFINITE: { return select(0.0, 1.0, is_finite(x)); }
    default: { return x; } // unreachable: every UNARY_* code has a case
  }
}
