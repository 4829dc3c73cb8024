// Convolution (NCDHW, grouped, strided, padded, dilated) as implicit GEMM on
// the core of gemm.wgsl, one GEMM per group (z = group). Nothing is
// unfolded in memory: the loaders compute im2col addresses on the fly.
//   forward:         C = out: A = w [Og, Cg*taps],  B = im2col(x) [Cg*taps, N*outVol]
//   backward input:  C = gx:  A = w^T [Cg, Og*taps], B = col2im(gy) [Og*taps, N*inVol]
//   backward weight: C = gw:  A = gy [Og, N*outVol], B = im2col(x)^T [N*outVol, Cg*taps]
// backward input gathers (each gx element sums the taps that reach it), so
// every output element is written once and no atomics are needed.
// Prelude: const VARIANT (a CONV_* pass). The record (schema.wgsl) binds at 5;
// P[3] is 1 when GEMM_BIAS holds a bias (forward).

@group(0) @binding(5) var<uniform> CONV: ConvParams;

const CONV_FORWARD: u32 = 0u;
const CONV_BACKWARD_INPUT: u32 = 1u;
const CONV_BACKWARD_WEIGHT: u32 = 2u;

// x[n, channel] at output position `at` seen through kernel tap `tap`; 0 in the padding.
fn conv_input(n: i32, channel: i32, at: vec3<i32>, tap: vec3<i32>) -> f32 {
  let p = at * CONV.stride + tap * CONV.dilation - CONV.padding;
  if (any(p < vec3(0)) || any(p >= CONV.input)) { return 0.0; }
  return GEMM_B[(n * CONV.C + channel) * volume3(CONV.input) + flatten3(p, CONV.input)];
}

// Channels per group: in (C) and out (O).
fn conv_cg() -> i32 { return CONV.C / CONV.groups; }
fn conv_og() -> i32 { return CONV.O / CONV.groups; }

fn load_a(g: u32, m: u32, k: u32) -> f32 {
  let taps = volume3(CONV.kernel);
  switch VARIANT {
    // w is dense [O, Cg * taps]; row g * Og + m.
    case CONV_FORWARD: { return GEMM_A[(i32(g) * conv_og() + i32(m)) * i32(P[2]) + i32(k)]; }
    case CONV_BACKWARD_INPUT: {
      return GEMM_A[((i32(g) * conv_og() + i32(k) / taps) * conv_cg() + i32(m)) * taps + i32(k) % taps];
    }
    default: { // CONV_BACKWARD_WEIGHT: gy
      let out_volume = volume3(CONV.output);
      return GEMM_A[((i32(k) / out_volume) * CONV.O + i32(g) * conv_og() + i32(m)) * out_volume + i32(k) % out_volume];
    }
  }
}

// gy at the output position whose window puts tap `k % taps` on input
// position `col`, or 0 where no output position does (stride gaps, borders).
fn conv_backward_input_load_b(g: i32, k: i32, col: i32) -> f32 {
  let taps = volume3(CONV.kernel);
  let in_volume = volume3(CONV.input);
  let tap = unflatten3(k % taps, CONV.kernel);
  let at = unflatten3(col % in_volume, CONV.input);
  let reach = at + CONV.padding - tap * CONV.dilation;
  if (any(reach < vec3(0)) || any(reach % CONV.stride != vec3(0))) { return 0.0; }
  let out_at = reach / CONV.stride;
  if (any(out_at >= CONV.output)) { return 0.0; }
  let channel = g * conv_og() + k / taps;
  return GEMM_B[((col / in_volume) * CONV.O + channel) * volume3(CONV.output) + flatten3(out_at, CONV.output)];
}

fn load_b(g: u32, k: u32, col: u32) -> f32 {
  let taps = volume3(CONV.kernel);
  let out_volume = volume3(CONV.output);
  switch VARIANT {
    case CONV_FORWARD: {
      return conv_input(i32(col) / out_volume, i32(g) * conv_cg() + i32(k) / taps,
        unflatten3(i32(col) % out_volume, CONV.output), unflatten3(i32(k) % taps, CONV.kernel));
    }
    case CONV_BACKWARD_INPUT: { return conv_backward_input_load_b(i32(g), i32(k), i32(col)); }
    default: { // CONV_BACKWARD_WEIGHT: im2col(x)^T
      return conv_input(i32(k) / out_volume, i32(g) * conv_cg() + i32(col) / taps,
        unflatten3(i32(k) % out_volume, CONV.output), unflatten3(i32(col) % taps, CONV.kernel));
    }
  }
}

fn store_c(g: u32, m: u32, col: u32, value: f32) {
  switch VARIANT {
    case CONV_FORWARD: {
      let out_volume = volume3(CONV.output);
      let o = i32(g) * conv_og() + i32(m);
      var y = value;
      if (P[3] != 0u) { y += GEMM_BIAS[o]; }
      GEMM_C[((i32(col) / out_volume) * CONV.O + o) * out_volume + i32(col) % out_volume] = y;
    }
    case CONV_BACKWARD_INPUT: {
      let in_volume = volume3(CONV.input);
      let channel = i32(g) * conv_cg() + i32(m);
      GEMM_C[((i32(col) / in_volume) * CONV.C + channel) * in_volume + i32(col) % in_volume] = value;
    }
    default: { GEMM_C[(g * P[0] + m) * P[1] + col] = value; } // CONV_BACKWARD_WEIGHT
  }
}
