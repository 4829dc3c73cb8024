// Central moment discrepancy helpers: per-column mean and central moments
// c_2..c_k of a dense [n, d] matrix, and their gradient with respect to x.

const CMD_COLUMNS: u32 = 16u; // columns per workgroup
const CMD_LANES: u32 = 16u;   // invocations sharing the rows of one column
const CMD_MAX_ORDER: u32 = 8u;

@group(0) @binding(1) var<storage, read_write> MEAN_OUT: array<f32>;
@group(0) @binding(2) var<storage, read_write> MOMENTS_OUT: array<f32>;
@group(0) @binding(3) var<storage, read> CMD_X: array<f32>;
@group(0) @binding(4) var<storage, read_write> GRAD_X: array<f32>;
@group(0) @binding(5) var<storage, read> MEAN_IN: array<f32>;
@group(0) @binding(6) var<storage, read> MOMENTS_IN: array<f32>;
@group(0) @binding(7) var<storage, read> GRAD_MEAN: array<f32>;
@group(0) @binding(8) var<storage, read> GRAD_MOMENTS: array<f32>;

// sums[j] holds the partial sums of power j + 1 (the mean's sum at j = 0).
var<workgroup> cmd_sums: array<array<f32, CMD_COLUMNS * CMD_LANES>, CMD_MAX_ORDER>;

// Adds the lanes of each column pairwise into lane 0 for the first `count` sums.
fn cmd_reduce_lanes(count: u32, local: vec3<u32>) {
  let slot = local.y * CMD_COLUMNS + local.x;
  for (var half = CMD_LANES / 2u; half > 0u; half /= 2u) {
    if (local.y < half) {
      for (var j = 0u; j < count; j++) {
        cmd_sums[j][slot] += cmd_sums[j][slot + half * CMD_COLUMNS];
      }
    }
    workgroupBarrier();
  }
}

// mean [d], moments [(k - 1), d] with row j - 2 holding c_j = mean((x - mean)^j).
// P[0] n, P[1] d, P[2] k (2..CMD_MAX_ORDER).
// The lanes of a workgroup read CMD_COLUMNS neighbouring columns of a row.
@compute @workgroup_size(CMD_COLUMNS, CMD_LANES)
fn cmd_moments(@builtin(workgroup_id) group: vec3<u32>,
               @builtin(num_workgroups) groups: vec3<u32>,
               @builtin(local_invocation_id) local: vec3<u32>) {
  let n = P[0];
  let d = P[1];
  let order = P[2];
  let column = (group.y * groups.x + group.x) * CMD_COLUMNS + local.x;
  let in_range = column < d;
  let slot = local.y * CMD_COLUMNS + local.x;

  var sum = 0.0;
  if (in_range) {
    for (var r = local.y; r < n; r += CMD_LANES) { sum += CMD_X[r * d + column]; }
  }
  cmd_sums[0][slot] = sum;
  workgroupBarrier();
  cmd_reduce_lanes(1u, local);
  // An empty column has mean and moments 0.
  let inv_n = select(1.0 / f32(n), 0.0, n == 0u);
  let mean = cmd_sums[0][local.x] * inv_n;
  workgroupBarrier();

  var powers: array<f32, CMD_MAX_ORDER>;
  if (in_range) {
    for (var r = local.y; r < n; r += CMD_LANES) {
      let delta = CMD_X[r * d + column] - mean;
      var power = delta;
      for (var j = 2u; j <= order; j++) {
        power *= delta;
        powers[j - 2u] += power;
      }
    }
  }
  for (var j = 0u; j + 1u < order; j++) { cmd_sums[j][slot] = powers[j]; }
  workgroupBarrier();
  cmd_reduce_lanes(order - 1u, local);
  if (in_range && local.y == 0u) {
    MEAN_OUT[column] = mean;
    for (var j = 0u; j + 1u < order; j++) { MOMENTS_OUT[j * d + column] = cmd_sums[j][local.x] * inv_n; }
  }
}

// gx = gmean / n + sum_{j=2..k} gc_j * j / n * ((x - mean)^(j-1) - c_(j-1)), c_1 = 0.
// One invocation per element. P[0] n * d, P[1] d, P[2] k, P[3] n.
@compute @workgroup_size(WG)
fn cmd_moments_backward(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let d = P[1];
  let order = P[2];
  let inv_n = 1.0 / f32(P[3]);
  let column = i % d;
  let delta = CMD_X[i] - MEAN_IN[column];
  var grad = GRAD_MEAN[column] * inv_n;
  var power = 1.0; // delta^(j-1)
  for (var j = 2u; j <= order; j++) {
    power *= delta;
    var centered = power;
    if (j > 2u) { centered -= MOMENTS_IN[(j - 3u) * d + column]; }
    grad += GRAD_MOMENTS[(j - 2u) * d + column] * f32(j) * inv_n * centered;
  }
  GRAD_X[i] = grad;
}
