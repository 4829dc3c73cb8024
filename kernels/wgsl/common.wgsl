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
    // tanh(15) rounds to 1 in f32; clamping avoids inf/inf inside tanh.
    case UNARY_TANH: { return tanh(clamp(x, -15.0, 15.0)); }
    case UNARY_SIGMOID: { return 1.0 / (1.0 + exp(-x)); }
    case UNARY_RELU: { return max(x, 0.0); }
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
    default: { return x; } // unreachable: every UNARY_* code has a case
  }
}
