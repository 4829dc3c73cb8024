// Batch normalization with batch statistics over x dense [outer, channels, inner] (src/backend/interface.ts:
// batchNormForward, batchNormBackward), the activation fused. One workgroup owns one channel and makes every
// pass over it (sums, then the elements); an invocation visits the same elements in every pass, so a pass
// reads only what the same invocation wrote before it.
// Parameters: P[0] 1 when an addend is bound (else x stands in at its binding); P[1] 1 when gz is bound
// (backward; else a 4-byte buffer stands in and is never written). The record (schema.wgsl) binds at 1.

const BN_LANES: u32 = 256u;

@group(0) @binding(1) var<uniform> BN: BatchnormParams;
@group(0) @binding(2) var<storage, read> BN_X: array<f32>;
@group(0) @binding(3) var<storage, read> BN_WEIGHT: array<f32>;
@group(0) @binding(4) var<storage, read> BN_BIAS: array<f32>;
@group(0) @binding(5) var<storage, read> BN_ADDEND: array<f32>;
@group(0) @binding(6) var<storage, read_write> BN_OUT: array<f32>;
@group(0) @binding(7) var<storage, read_write> BN_STATS: array<f32>;
@group(0) @binding(8) var<storage, read> BN_GRAD_OUT: array<f32>;
@group(0) @binding(9) var<storage, read_write> BN_GRAD_X: array<f32>;
@group(0) @binding(10) var<storage, read_write> BN_SUMS: array<f32>;
@group(0) @binding(11) var<storage, read_write> BN_GRAD_Z: array<f32>;

var<workgroup> bn_partial: array<vec2<f32>, BN_LANES>;

// The sum of v over the workgroup's invocations, returned to every invocation.
fn bn_workgroup_sum(v: vec2<f32>, lane: u32) -> vec2<f32> {
  bn_partial[lane] = v;
  workgroupBarrier();
  for (var half = BN_LANES / 2u; half > 0u; half /= 2u) {
    if (lane < half) { bn_partial[lane] += bn_partial[lane + half]; }
    workgroupBarrier();
  }
  let total = bn_partial[0];
  workgroupBarrier();
  return total;
}

// The elements of one channel: outer * inner (BN.shape is [outer, channels, inner]).
fn bn_count() -> i32 { return BN.shape.x * BN.shape.z; }

// The index of the e-th element of channel c (e < outer * inner).
fn bn_index(c: i32, e: i32) -> i32 { return ((e / BN.shape.z) * BN.shape.y + c) * BN.shape.z + e % BN.shape.z; }

// z's activation and its derivative.
fn bn_activate(z: f32) -> f32 {
  switch (BN.act) {
    case NORM_ACT_RELU: { return max(z, 0.0); }
    case NORM_ACT_SILU: { return z / (1.0 + exp(-z)); }
    default: { return z; }
  }
}
fn bn_slope(z: f32) -> f32 {
  switch (BN.act) {
    case NORM_ACT_RELU: { return select(0.0, 1.0, z > 0.0); }
    case NORM_ACT_SILU: {
      let s = 1.0 / (1.0 + exp(-z));
      return s * (1.0 + z * (1.0 - s));
    }
    default: { return 1.0; }
  }
}

// The pre-activation of element i of channel c, from x - mean and the channel's scale.
fn bn_pre_activation(c: i32, i: i32, centered: f32, scale: f32) -> f32 {
  let z = centered * scale + BN_BIAS[c];
  return select(z, z + BN_ADDEND[i], P[0] == 1u);
}

@compute @workgroup_size(BN_LANES)
fn batchnorm_forward(@builtin(workgroup_id) group: vec3<u32>,
                     @builtin(num_workgroups) groups: vec3<u32>,
                     @builtin(local_invocation_id) local: vec3<u32>) {
  let c = i32(linear_group(group, groups));
  if (c >= BN.shape.y) { return; }
  let lane = local.x;
  let count = bn_count();
  var sum = 0.0;
  for (var e = i32(lane); e < count; e += i32(BN_LANES)) { sum += BN_X[bn_index(c, e)]; }
  let mean = bn_workgroup_sum(vec2<f32>(sum, 0.0), lane).x / f32(count);
  var squares = 0.0;
  for (var e = i32(lane); e < count; e += i32(BN_LANES)) {
    let d = BN_X[bn_index(c, e)] - mean;
    squares += d * d;
  }
  let variance = bn_workgroup_sum(vec2<f32>(squares, 0.0), lane).x / f32(count);
  if (lane == 0u) {
    BN_STATS[c] = mean;
    BN_STATS[BN.shape.y + c] = variance;
  }
  let scale = BN_WEIGHT[c] / sqrt(variance + BN.eps);
  for (var e = i32(lane); e < count; e += i32(BN_LANES)) {
    let i = bn_index(c, e);
    BN_OUT[i] = bn_activate(bn_pre_activation(c, i, BN_X[i] - mean, scale));
  }
}

@compute @workgroup_size(BN_LANES)
fn batchnorm_backward(@builtin(workgroup_id) group: vec3<u32>,
                      @builtin(num_workgroups) groups: vec3<u32>,
                      @builtin(local_invocation_id) local: vec3<u32>) {
  let c = i32(linear_group(group, groups));
  if (c >= BN.shape.y) { return; }
  let lane = local.x;
  let count = bn_count();
  let mean = BN_STATS[c];
  let inv_std = 1.0 / sqrt(BN_STATS[BN.shape.y + c] + BN.eps);
  let scale = BN_WEIGHT[c] * inv_std;
  // dL/dz into gx (and gz when bound), with the sums of dL/dz and of dL/dz * (x - mean).
  var acc = vec2<f32>(0.0, 0.0);
  for (var e = i32(lane); e < count; e += i32(BN_LANES)) {
    let i = bn_index(c, e);
    let centered = BN_X[i] - mean;
    let gz = BN_GRAD_OUT[i] * bn_slope(bn_pre_activation(c, i, centered, scale));
    BN_GRAD_X[i] = gz;
    if (P[1] == 1u) { BN_GRAD_Z[i] = gz; }
    acc += vec2<f32>(gz, gz * centered);
  }
  let total = bn_workgroup_sum(acc, lane);
  if (lane == 0u) {
    BN_SUMS[c] = total.x;
    BN_SUMS[BN.shape.y + c] = total.y * inv_std;
  }
  // gx = scale * (gz - mean(gz) - (x - mean) * invStd^2 * mean(gz * (x - mean))).
  let g_mean = total.x / f32(count);
  let centered_coef = total.y / f32(count) * inv_std * inv_std;
  for (var e = i32(lane); e < count; e += i32(BN_LANES)) {
    let i = bn_index(c, e);
    BN_GRAD_X[i] = (BN_GRAD_X[i] - g_mean - (BN_X[i] - mean) * centered_coef) * scale;
  }
}
