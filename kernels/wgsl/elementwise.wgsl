// Elementwise maps over strided operands into a dense output: fill, copy/cast,
// unary, binary, where. Prelude: aliases TO (output), TA, TB, TC (operand
// storage types) and const OP (the UNARY_* or BINARY_* code). Broadcasting is
// a zero stride; parameters follow the strided layout of common.wgsl.

@group(0) @binding(1) var<storage, read_write> OUT: array<TO>;
@group(0) @binding(2) var<storage, read> XA: array<TA>;
@group(0) @binding(3) var<storage, read> XB: array<TB>;
@group(0) @binding(4) var<storage, read> XC: array<TC>;

// P[0] count, P[1] the value's bits in the output type.
@compute @workgroup_size(WG)
fn fill(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  OUT[i] = bitcast<TO>(P[1]);
}

@compute @workgroup_size(WG)
fn copy(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  OUT[i] = TO(XA[strided_offsets(i).x]);
}

// copy into a region of OUT: the second operand block of the strided layout
// holds the region's offset and strides (x's element i goes there).
@compute @workgroup_size(WG)
fn copy_into(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let at = strided_offsets(i);
  OUT[at.y] = TO(XA[at.x]);
}

// P[STRIDED_EXTRA]: alpha of leakyRelu/elu.
@compute @workgroup_size(WG)
fn unary_float(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let x = f32(XA[strided_offsets(i).x]);
  OUT[i] = TO(unary_f32(OP, x, param_f32(STRIDED_EXTRA)));
}

// int32 input: exact integer arithmetic for the ops that are closed over the
// integers, float32 (unary_f32) for every other.
@compute @workgroup_size(WG)
fn unary_int(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let x = i32(XA[strided_offsets(i).x]);
  switch OP {
    case UNARY_NEG: { OUT[i] = TO(-x); }
    case UNARY_ABS: { OUT[i] = TO(abs(x)); }
    case UNARY_SIGN: { OUT[i] = TO(sign(x)); }
    case UNARY_SQUARE: { OUT[i] = TO(x * x); }
    case UNARY_RELU: { OUT[i] = TO(max(x, 0)); }
    case UNARY_FLOOR, UNARY_CEIL, UNARY_ROUND, UNARY_TRUNC: { OUT[i] = TO(x); }
    default: { OUT[i] = TO(unary_f32(OP, f32(x), param_f32(STRIDED_EXTRA))); }
  }
}

// C's fmod: a - b * trunc(a / b), exact whenever a / b rounds to the right
// integer side (always, unless a / b is within an ulp of an integer); an
// infinite b leaves a finite a as it is.
fn fmod_f32(a: f32, b: f32) -> f32 {
  if (is_inf(b) && is_finite(a)) { return a; }
  return a - b * trunc(a / b);
}

// torch.remainder: fmod moved into b's half-line.
fn remainder_f32(a: f32, b: f32) -> f32 {
  let r = fmod_f32(a, b);
  return select(r, r + b, r != 0.0 && ((r < 0.0) != (b < 0.0)));
}

// torch.floor_divide, computed as torch does from fmod.
fn floor_divide_f32(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return a / b; }
  let m = fmod_f32(a, b);
  var d = (a - m) / b;
  if (m != 0.0 && ((b < 0.0) != (m < 0.0))) { d -= 1.0; }
  if (d == 0.0) { return select(0.0, -0.0, ((bitcast<u32>(a) ^ bitcast<u32>(b)) & 0x80000000u) != 0u); } // the sign of a / b
  let q = floor(d);
  return select(q, q + 1.0, d - q > 0.5);
}

fn binary_f32(a: f32, b: f32) -> f32 {
  switch OP {
    case BINARY_ADD: { return a + b; }
    case BINARY_SUB: { return a - b; }
    case BINARY_MUL: { return a * b; }
    case BINARY_DIV: { return a / b; }
    case BINARY_POW: { return pow_real(a, b); }
    // WGSL's min/max may return the other operand for a NaN; NaN propagates as on the other backends.
    case BINARY_MINIMUM: { return select(min(a, b), a + b, is_nan(a) || is_nan(b)); }
    case BINARY_MAXIMUM: { return select(max(a, b), a + b, is_nan(a) || is_nan(b)); }
    // Comparisons with a NaN are false (ne true) as IEEE says; the shader compiler may assume no NaN, so test it.
    case BINARY_EQ: { return select(0.0, 1.0, a == b && !unordered(a, b)); }
    case BINARY_NE: { return select(0.0, 1.0, a != b || unordered(a, b)); }
    case BINARY_LT: { return select(0.0, 1.0, a < b && !unordered(a, b)); }
    case BINARY_LE: { return select(0.0, 1.0, a <= b && !unordered(a, b)); }
    case BINARY_GT: { return select(0.0, 1.0, a > b && !unordered(a, b)); }
    case BINARY_REMAINDER: { return remainder_f32(a, b); }
    case BINARY_FLOOR_DIVIDE: { return floor_divide_f32(a, b); }
    case BINARY_ATAN2: { return atan2_f32(a, b); }
    default: { return select(0.0, 1.0, a >= b && !unordered(a, b)); } // BINARY_GE
  }
}

// Exact integer power by squaring (wrapping like int32 storage); a negative
// exponent gives trunc(1 / a^|b|): 0 unless |a| = 1.
fn pow_i32(a: i32, b: i32) -> i32 {
  if (b < 0) {
    if (a == 1) { return 1; }
    if (a == -1) { return select(1, -1, (b & 1) != 0); }
    return 0;
  }
  var result = 1;
  var base = a;
  var e = b;
  while (e != 0) {
    if ((e & 1) != 0) { result *= base; }
    base *= base;
    e >>= 1u;
  }
  return result;
}

fn binary_i32(a: i32, b: i32) -> i32 {
  switch OP {
    case BINARY_ADD: { return a + b; }
    case BINARY_SUB: { return a - b; }
    case BINARY_MUL: { return a * b; }
    // Truncating division; x / 0 is 0, as JavaScript's ToInt32(x / 0).
    case BINARY_DIV: { return select(a / b, 0, b == 0); }
    case BINARY_POW: { return pow_i32(a, b); }
    case BINARY_MINIMUM: { return min(a, b); }
    case BINARY_MAXIMUM: { return max(a, b); }
    case BINARY_EQ: { return select(0, 1, a == b); }
    case BINARY_NE: { return select(0, 1, a != b); }
    case BINARY_LT: { return select(0, 1, a < b); }
    case BINARY_LE: { return select(0, 1, a <= b); }
    case BINARY_GT: { return select(0, 1, a > b); }
    // Integer remainder and floor division; a zero divisor gives 0 (as JavaScript's ToInt32 of NaN or inf).
    case BINARY_REMAINDER: {
      if (b == 0) { return 0; }
      let r = a % b;
      return select(r, r + b, r != 0 && ((r < 0) != (b < 0)));
    }
    case BINARY_FLOOR_DIVIDE: {
      if (b == 0) { return 0; }
      return select(a / b, a / b - 1, a % b != 0 && ((a < 0) != (b < 0)));
    }
    case BINARY_ATAN2: { return i32(atan2_f32(f32(a), f32(b))); }
    default: { return select(0, 1, a >= b); } // BINARY_GE
  }
}

@compute @workgroup_size(WG)
fn binary_float(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let o = strided_offsets(i);
  OUT[i] = TO(binary_f32(f32(XA[o.x]), f32(XB[o.y])));
}

@compute @workgroup_size(WG)
fn binary_int(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let o = strided_offsets(i);
  OUT[i] = TO(binary_i32(i32(XA[o.x]), i32(XB[o.y])));
}

// Operand A is the condition, B the value where it is non-zero, C elsewhere.
@compute @workgroup_size(WG)
fn where_select(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let o = strided_offsets(i);
  // A NaN condition is non-zero, so it picks B (torch casts NaN to True).
  let c = XA[o.x];
  OUT[i] = select(TO(XC[o.z]), TO(XB[o.y]), c != TA(0) || is_nan(f32(c)));
}
