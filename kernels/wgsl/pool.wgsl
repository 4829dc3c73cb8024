// Max and average pooling over NCDHW planes, one invocation per output
// element (per input element for the average-pool gradient, which gathers the
// windows covering it, so no atomics are needed).
// Parameters: P[0] count; the record (schema.wgsl) binds at 4.

@group(0) @binding(1) var<storage, read_write> POOL_OUT: array<f32>;
@group(0) @binding(2) var<storage, read> POOL_IN: array<f32>;
@group(0) @binding(3) var<storage, read_write> POOL_ARGMAX: array<i32>;
@group(0) @binding(4) var<uniform> POOL: PoolParams;

// The window of output element i: its first tap (start, in input coordinates, the padding outside), the
// taps [lo, hi) that fall inside the input (tap t is at start + t * dilation), and the offset of i's plane in
// the input.
struct Window { start: vec3<i32>, lo: vec3<i32>, hi: vec3<i32>, base: i32 }
fn pool_window(i: u32) -> Window {
  let out_volume = volume3(POOL.output);
  let start = unflatten3(i32(i) % out_volume, POOL.output) * POOL.stride - POOL.padding;
  let dil = POOL.dilation;
  let lo = select(vec3(0), (-start + dil - 1) / dil, start < vec3(0));
  let hi = min(POOL.kernel, (POOL.input - start + dil - 1) / dil);
  return Window(start, lo, hi, (i32(i) / out_volume) * volume3(POOL.input));
}

// Ties keep the first position in (d, h, w) order; any NaN wins (the last one, as torch); the padding never wins.
@compute @workgroup_size(WG)
fn max_pool(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let w = pool_window(i);
  var best = -infinity();
  var best_at = -1;
  for (var a = w.lo.x; a < w.hi.x; a++) {
    for (var b = w.lo.y; b < w.hi.y; b++) {
      for (var e = w.lo.z; e < w.hi.z; e++) {
        let at = flatten3(w.start + vec3(a, b, e) * POOL.dilation, POOL.input);
        let v = POOL_IN[w.base + at];
        if (best_at < 0 || v > best || is_nan(v)) { best = v; best_at = at; }
      }
    }
  }
  POOL_OUT[i] = best;
  POOL_ARGMAX[i] = best_at;
}

// The divisor of the window starting at `start` (average pooling has dilation 1): the window cut at the
// padded input's end (count_include_pad, as torch in ceil mode) or its cells inside the input.
fn pool_divisor(start: vec3<i32>) -> f32 {
  let end = start + POOL.kernel;
  var len = min(end, POOL.input) - max(start, vec3(0));
  if (POOL.count_include_pad != 0) { len = min(end, POOL.input + POOL.padding) - start; }
  return f32(len.x * len.y * len.z);
}

@compute @workgroup_size(WG)
fn avg_pool(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let w = pool_window(i);
  var sum = 0.0;
  for (var a = w.lo.x; a < w.hi.x; a++) {
    for (var b = w.lo.y; b < w.hi.y; b++) {
      for (var e = w.lo.z; e < w.hi.z; e++) {
        sum += POOL_IN[w.base + flatten3(w.start + vec3(a, b, e), POOL.input)];
      }
    }
  }
  POOL_OUT[i] = sum / pool_divisor(w.start);
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
        let o = vec3(z, y, x);
        sum += POOL_IN[base + flatten3(o, POOL.output)] / pool_divisor(o * POOL.stride - POOL.padding);
      }
    }
  }
  POOL_OUT[i] = sum;
}
