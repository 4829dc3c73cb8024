// Running sums or products along the middle axis of a dense [outer, size, inner] array, one invocation per
// line walking it in order (from its end when reversed). Prelude: alias T (f32 or i32; i32 wraps as integer
// arithmetic does, so int32 never rounds through f32) and const OP (REDUCE_SUM or REDUCE_PROD).
// P[0] lines (outer * inner), P[1] size, P[2] inner, P[3] 1 when reversed.

@group(0) @binding(1) var<storage, read> SCAN_X: array<T>;
@group(0) @binding(2) var<storage, read_write> SCAN_OUT: array<T>;

@compute @workgroup_size(WG)
fn cumulative(t: Thread) {
  let line = thread_index(t);
  if (line >= P[0]) { return; }
  let size = P[1];
  let inner = P[2];
  let reverse = P[3] == 1u;
  let base = (line / inner) * size * inner + line % inner;
  var acc = select(T(1), T(0), OP == REDUCE_SUM);
  for (var k = 0u; k < size; k++) {
    let at = base + select(k, size - 1u - k, reverse) * inner;
    if (OP == REDUCE_SUM) { acc += SCAN_X[at]; } else { acc *= SCAN_X[at]; }
    SCAN_OUT[at] = acc;
  }
}
