// Matmul loaders for the GEMM core (gemm.wgsl): A and B are strided views
// (batch strides may be 0), C is dense [batch, M, N] with the epilogue
// C = act(alpha * A@B + bias[n]).
// Parameters after M, N, K: P[3] offset A, P[4..7) strides of A (batch, m, k),
// P[7] offset B, P[8..11) strides of B (batch, k, n), P[11] alpha (f32 bits),
// P[12] 1 when GEMM_BIAS holds a bias, P[13] activation (a UNARY_* code).

fn matmul_load_a(z: u32, m: u32, k: u32) -> f32 {
  return GEMM_A[param_i32(3u) + i32(z) * param_i32(4u) + i32(m) * param_i32(5u) + i32(k) * param_i32(6u)];
}

fn matmul_load_b(z: u32, k: u32, n: u32) -> f32 {
  return GEMM_B[param_i32(7u) + i32(z) * param_i32(8u) + i32(k) * param_i32(9u) + i32(n) * param_i32(10u)];
}

fn matmul_store(z: u32, m: u32, n: u32, value: f32) {
  var y = param_f32(11u) * value;
  if (P[12] != 0u) { y += GEMM_BIAS[n]; }
  GEMM_C[(z * P[0] + m) * P[1] + n] = unary_f32(P[13], y, 0.0);
}
