// Max and average pooling over NCDHW planes, one invocation per output
// element (per input element for the average-pool gradient, which gathers the
// windows covering it, so no atomics are needed).
// Parameters: P[0] count; the record (schema.wgsl) binds at 4.

@group(0) @binding(1) var<storage, read_write> POOL_OUT: array<f32>;
@group(0) @binding(2) var<storage, read> POOL_IN: array<f32>;
@group(0) @binding(3) var<storage, read_write> POOL_ARGMAX: array<i32>;
@group(0) @binding(4) var<uniform> POOL: PoolParams;

// The window of output element i clipped to the input ([lo, hi) in input coordinates; the padding is
// outside), and the offset of i's plane in the input.
struct Window { lo: vec3<i32>, hi: vec3<i32>, base: i32 }
fn pool_window(i: u32) -> Window {
  let out_volume = volume3(POOL.output);
  let start = unflatten3(i32(i) % out_volume, POOL.output) * POOL.stride - POOL.padding;
  return Window(max(start, vec3(0)), min(start + POOL.kernel, POOL.input), (i32(i) / out_volume) * volume3(POOL.input));
}

// Ties keep the first position in (d, h, w) order; the padding never wins.
@compute @workgroup_size(WG)
fn max_pool(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let w = pool_window(i);
  var best = -infinity();
  var best_at = -1;
  for (var z = w.lo.x; z < w.hi.x; z++) {
    for (var y = w.lo.y; y < w.hi.y; y++) {
      for (var x = w.lo.z; x < w.hi.z; x++) {
        let at = flatten3(vec3(z, y, x), POOL.input);
        let v = POOL_IN[w.base + at];
        if (best_at < 0 || v > best) { best = v; best_at = at; }
      }
    }
  }
  POOL_OUT[i] = best;
  POOL_ARGMAX[i] = best_at;
}

// count_include_pad: padded cells count, so the divisor is the kernel volume.
fn pool_divisor() -> f32 { return f32(volume3(POOL.kernel)); }

@compute @workgroup_size(WG)
fn avg_pool(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let w = pool_window(i);
  var sum = 0.0;
  for (var z = w.lo.x; z < w.hi.x; z++) {
    for (var y = w.lo.y; y < w.hi.y; y++) {
      for (var x = w.lo.z; x < w.hi.z; x++) {
        sum += POOL_IN[w.base + flatten3(vec3(z, y, x), POOL.input)];
      }
    }
  }
  POOL_OUT[i] = sum / pool_divisor();
}

// gx at input position p sums gy / divisor over the output positions whose
// window holds p: start <= p < start + kernel, start = o * stride - padding.
@compute @workgroup_size(WG)
fn avg_pool_backward(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let in_volume = volume3(POOL.input);
  let plane = i32(i) / in_volume;
  let p = unflatten3(i32(i) % in_volume, POOL.input) + POOL.padding;
  // First o with o * stride + kernel > p, last o with o * stride <= p.
  let first = max((p - POOL.kernel + POOL.stride) / POOL.stride, vec3(0));
  let last = min(p / POOL.stride, POOL.output - 1);
  let base = plane * volume3(POOL.output);
  var sum = 0.0;
  for (var z = first.x; z <= last.x; z++) {
    for (var y = first.y; y <= last.y; y++) {
      for (var x = first.z; x <= last.z; x++) {
        sum += POOL_IN[base + flatten3(vec3(z, y, x), POOL.output)];
      }
    }
  }
  POOL_OUT[i] = sum / pool_divisor();
}
