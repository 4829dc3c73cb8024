// Convolution (NCDHW, grouped, strided, padded, dilated) as implicit GEMM on
// the core of gemm.wgsl, one GEMM per group (z = group). Nothing is
// unfolded in memory: the loaders compute im2col addresses on the fly.
//   forward:         C = out: A = w [Og, Cg*taps],  B = im2col(x) [Cg*taps, N*outVol]
//   backward input:  C = gx:            A = w^T [Cg, Og*taps], B = col2im(gy) [Og*taps, N*inVol]
//   backward weight: C = gw:            A = gy [Og, N*outVol], B = im2col(x)^T [N*outVol, Cg*taps]
// backward input gathers (each gx element sums the taps that reach it), so
// every output element is written once and no atomics are needed.
// Parameters after M, N, K: P[3] N, P[4] C, P[5..8) D H W, P[8] O,
// P[9..12) kernel, P[12..15) stride, P[15..18) padding, P[18..21) dilation,
// P[21] groups, P[22..25) output D H W, P[25] 1 when GEMM_BIAS holds a bias.

struct ConvShape {
  batch: u32,
  channels: u32,
  input: vec3<u32>,
  out_channels: u32,
  kernel: vec3<u32>,
  stride: vec3<u32>,
  padding: vec3<u32>,
  dilation: vec3<u32>,
  groups: u32,
  output: vec3<u32>,
}

fn conv_shape() -> ConvShape {
  return ConvShape(P[3], P[4], vec3(P[5], P[6], P[7]), P[8], vec3(P[9], P[10], P[11]),
    vec3(P[12], P[13], P[14]), vec3(P[15], P[16], P[17]), vec3(P[18], P[19], P[20]),
    P[21], vec3(P[22], P[23], P[24]));
}

fn volume(v: vec3<u32>) -> u32 { return v.x * v.y * v.z; }
fn unflatten(i: u32, extent: vec3<u32>) -> vec3<u32> {
  return vec3(i / (extent.y * extent.z), (i / extent.z) % extent.y, i % extent.z);
}
fn flatten(p: vec3<u32>, extent: vec3<u32>) -> u32 { return (p.x * extent.y + p.y) * extent.z + p.z; }

// x[n, channel] at output position `at` seen through kernel tap `tap`; 0 in the padding.
fn conv_input(s: ConvShape, n: u32, channel: u32, at: vec3<u32>, tap: vec3<u32>) -> f32 {
  let p = vec3<i32>(at * s.stride + tap * s.dilation) - vec3<i32>(s.padding);
  if (any(p < vec3(0)) || any(p >= vec3<i32>(s.input))) { return 0.0; }
  return GEMM_B[(n * s.channels + channel) * volume(s.input) + flatten(vec3<u32>(p), s.input)];
}

fn conv_forward_load_a(g: u32, m: u32, k: u32) -> f32 {
  // w is dense [O, Cg * taps]; row g * Og + m.
  return GEMM_A[(g * P[0] + m) * P[2] + k];
}

fn conv_forward_load_b(g: u32, k: u32, col: u32) -> f32 {
  let s = conv_shape();
  let taps = volume(s.kernel);
  let out_volume = volume(s.output);
  let cg = s.channels / s.groups;
  return conv_input(s, col / out_volume, g * cg + k / taps, unflatten(col % out_volume, s.output),
    unflatten(k % taps, s.kernel));
}

fn conv_forward_store(g: u32, m: u32, col: u32, value: f32) {
  let s = conv_shape();
  let out_volume = volume(s.output);
  let o = g * P[0] + m;
  var y = value;
  if (P[25] != 0u) { y += GEMM_BIAS[o]; }
  GEMM_C[((col / out_volume) * s.out_channels + o) * out_volume + col % out_volume] = y;
}

fn conv_backward_input_load_a(g: u32, m: u32, k: u32) -> f32 {
  let s = conv_shape();
  let taps = volume(s.kernel);
  let og = s.out_channels / s.groups;
  let cg = P[0];
  return GEMM_A[((g * og + k / taps) * cg + m) * taps + k % taps];
}

// gy at the output position whose window puts tap `k % taps` on input
// position `col`, or 0 where no output position does (stride gaps, borders).
fn conv_backward_input_load_b(g: u32, k: u32, col: u32) -> f32 {
  let s = conv_shape();
  let taps = volume(s.kernel);
  let in_volume = volume(s.input);
  let tap = unflatten(k % taps, s.kernel);
  let at = unflatten(col % in_volume, s.input);
  let reach = vec3<i32>(at + s.padding) - vec3<i32>(tap * s.dilation);
  let stride = vec3<i32>(s.stride);
  if (any(reach < vec3(0)) || any(reach % stride != vec3(0))) { return 0.0; }
  let out_at = vec3<u32>(reach / stride);
  if (any(out_at >= s.output)) { return 0.0; }
  let og = s.out_channels / s.groups;
  let channel = g * og + k / taps;
  return GEMM_B[((col / in_volume) * s.out_channels + channel) * volume(s.output) + flatten(out_at, s.output)];
}

fn conv_backward_input_store(g: u32, m: u32, col: u32, value: f32) {
  let s = conv_shape();
  let in_volume = volume(s.input);
  let channel = g * P[0] + m;
  GEMM_C[((col / in_volume) * s.channels + channel) * in_volume + col % in_volume] = value;
}

fn conv_backward_weight_load_a(g: u32, m: u32, k: u32) -> f32 {
  let s = conv_shape();
  let out_volume = volume(s.output);
  return GEMM_A[((k / out_volume) * s.out_channels + g * P[0] + m) * out_volume + k % out_volume];
}

fn conv_backward_weight_load_b(g: u32, k: u32, col: u32) -> f32 {
  let s = conv_shape();
  let taps = volume(s.kernel);
  let out_volume = volume(s.output);
  let cg = s.channels / s.groups;
  return conv_input(s, k / out_volume, g * cg + col / taps, unflatten(k % out_volume, s.output),
    unflatten(col % taps, s.kernel));
}

fn conv_backward_weight_store(g: u32, m: u32, col: u32, value: f32) {
  GEMM_C[(g * P[0] + m) * P[1] + col] = value;
}
