// Max and average pooling over NCDHW planes, one invocation per output
// element (per input element for the average-pool gradient, which gathers the
// windows covering it, so no atomics are needed).
// Parameters: P[0] count, P[1] planes (N * C), P[2..5) input D H W,
// P[5..8) kernel, P[8..11) stride, P[11..14) padding, P[14..17) output D H W.

@group(0) @binding(1) var<storage, read_write> POOL_OUT: array<f32>;
@group(0) @binding(2) var<storage, read> POOL_IN: array<f32>;
@group(0) @binding(3) var<storage, read_write> POOL_ARGMAX: array<i32>;

struct PoolShape {
  input: vec3<i32>,
  kernel: vec3<i32>,
  stride: vec3<i32>,
  padding: vec3<i32>,
  output: vec3<i32>,
}

fn pool_shape() -> PoolShape {
  return PoolShape(vec3(param_i32(2u), param_i32(3u), param_i32(4u)),
    vec3(param_i32(5u), param_i32(6u), param_i32(7u)), vec3(param_i32(8u), param_i32(9u), param_i32(10u)),
    vec3(param_i32(11u), param_i32(12u), param_i32(13u)), vec3(param_i32(14u), param_i32(15u), param_i32(16u)));
}

fn pool_volume(v: vec3<i32>) -> i32 { return v.x * v.y * v.z; }
fn pool_unflatten(i: i32, extent: vec3<i32>) -> vec3<i32> {
  return vec3(i / (extent.y * extent.z), (i / extent.z) % extent.y, i % extent.z);
}
fn pool_flatten(p: vec3<i32>, extent: vec3<i32>) -> i32 { return (p.x * extent.y + p.y) * extent.z + p.z; }

// The window of output element i clipped to the input ([lo, hi) in input coordinates; the padding is
// outside), and the offset of i's plane in the input.
struct Window { lo: vec3<i32>, hi: vec3<i32>, base: i32 }
fn pool_window(s: PoolShape, i: u32) -> Window {
  let out_volume = pool_volume(s.output);
  let start = pool_unflatten(i32(i) % out_volume, s.output) * s.stride - s.padding;
  return Window(max(start, vec3(0)), min(start + s.kernel, s.input), (i32(i) / out_volume) * pool_volume(s.input));
}

// Ties keep the first position in (d, h, w) order; the padding never wins.
@compute @workgroup_size(WG)
fn max_pool(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let s = pool_shape();
  let w = pool_window(s, i);
  var best = -infinity();
  var best_at = -1;
  for (var z = w.lo.x; z < w.hi.x; z++) {
    for (var y = w.lo.y; y < w.hi.y; y++) {
      for (var x = w.lo.z; x < w.hi.z; x++) {
        let at = pool_flatten(vec3(z, y, x), s.input);
        let v = POOL_IN[w.base + at];
        if (best_at < 0 || v > best) { best = v; best_at = at; }
      }
    }
  }
  POOL_OUT[i] = best;
  POOL_ARGMAX[i] = best_at;
}

// count_include_pad: padded cells count, so the divisor is the kernel volume.
fn pool_divisor(s: PoolShape) -> f32 { return f32(pool_volume(s.kernel)); }

@compute @workgroup_size(WG)
fn avg_pool(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let s = pool_shape();
  let w = pool_window(s, i);
  var sum = 0.0;
  for (var z = w.lo.x; z < w.hi.x; z++) {
    for (var y = w.lo.y; y < w.hi.y; y++) {
      for (var x = w.lo.z; x < w.hi.z; x++) {
        sum += POOL_IN[w.base + pool_flatten(vec3(z, y, x), s.input)];
      }
    }
  }
  POOL_OUT[i] = sum / pool_divisor(s);
}

// gx at input position p sums gy / divisor over the output positions whose
// window holds p: start <= p < start + kernel, start = o * stride - padding.
@compute @workgroup_size(WG)
fn avg_pool_backward(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let s = pool_shape();
  let in_volume = pool_volume(s.input);
  let plane = i32(i) / in_volume;
  let p = pool_unflatten(i32(i) % in_volume, s.input) + s.padding;
  // First o with o * stride + kernel > p, last o with o * stride <= p.
  let first = max((p - s.kernel + s.stride) / s.stride, vec3(0));
  let last = min(p / s.stride, s.output - 1);
  let base = plane * pool_volume(s.output);
  var sum = 0.0;
  for (var z = first.x; z <= last.x; z++) {
    for (var y = first.y; y <= last.y; y++) {
      for (var x = first.z; x <= last.z; x++) {
        sum += POOL_IN[base + pool_flatten(vec3(z, y, x), s.output)];
      }
    }
  }
  POOL_OUT[i] = sum / pool_divisor(s);
}
