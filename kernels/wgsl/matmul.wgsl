// Matmul loaders for the GEMM core (gemm.wgsl): A and B are strided views
// (batch strides may be 0), C is dense [batch, M, N] with the epilogue
// C = act(alpha * A@B + bias[n]). The record (schema.wgsl) binds at 5.

@group(0) @binding(5) var<uniform> MATMUL: MatmulParams;

fn load_a(z: u32, m: u32, k: u32) -> f32 {
  return GEMM_A[MATMUL.a_offset + dot(vec3(i32(z), i32(m), i32(k)), MATMUL.a_strides)];
}

fn load_b(z: u32, k: u32, n: u32) -> f32 {
  return GEMM_B[MATMUL.b_offset + dot(vec3(i32(z), i32(k), i32(n)), MATMUL.b_strides)];
}

// The epilogue's activation (an ACT_* code) through the unary op of the same name.
fn activate(act: u32, y: f32) -> f32 {
  switch act {
    case ACT_RELU: { return unary_f32(UNARY_RELU, y, 0.0); }
    case ACT_GELU: { return unary_f32(UNARY_GELU, y, 0.0); }
    case ACT_TANH: { return unary_f32(UNARY_TANH, y, 0.0); }
    case ACT_SIGMOID: { return unary_f32(UNARY_SIGMOID, y, 0.0); }
    default: { return y; } // ACT_NONE
  }
}

fn store_c(z: u32, m: u32, n: u32, value: f32) {
  var y = MATMUL.alpha * value;
  if (MATMUL.has_bias != 0u) { y += GEMM_BIAS[n]; }
  GEMM_C[(z * P[0] + m) * P[1] + n] = activate(MATMUL.act, y);
}
