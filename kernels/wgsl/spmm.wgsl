// Sparse kernels on a CSR matrix A (rows x cols, nnz edges): spmm, sddmm and
// the per-row edge softmax with its gradient.

@group(0) @binding(1) var<storage, read_write> SPARSE_OUT: array<f32>;
@group(0) @binding(2) var<storage, read> ROW_PTR: array<i32>;
@group(0) @binding(3) var<storage, read> COL_IDX: array<i32>;
@group(0) @binding(4) var<storage, read> VALUES: array<f32>;
@group(0) @binding(5) var<storage, read> DENSE_X: array<f32>;
@group(0) @binding(6) var<storage, read> DENSE_Y: array<f32>;

// out [rows, F] = A @ x, x dense [cols, F].
// P[0] rows, P[1] F, P[2] lanes per row (a power of two <= WG),
// P[3] value stride: 1, or 0 with VALUES = [1] when A has no values.
// Rows go to groups of `lanes` invocations (WG / lanes rows per workgroup);
// the lanes of a row step through the features together, so each edge reads
// a contiguous run of x.
@compute @workgroup_size(WG)
fn spmm(t: Thread) {
  let lanes = P[2];
  let row = group_index(t) * (WG / lanes) + t.local / lanes;
  if (row >= P[0]) { return; }
  let features = P[1];
  let begin = u32(ROW_PTR[row]);
  let end = u32(ROW_PTR[row + 1u]);
  for (var f = t.local % lanes; f < features; f += lanes) {
    var acc = 0.0;
    for (var e = begin; e < end; e++) {
      acc = fma(VALUES[e * P[3]], DENSE_X[u32(COL_IDX[e]) * features + f], acc);
    }
    SPARSE_OUT[row * features + f] = acc;
  }
}

// The row holding edge e: the last r with ROW_PTR[r] <= e.
fn row_of_edge(e: u32, rows: u32) -> u32 {
  var lo = 0u;
  var hi = rows;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (u32(ROW_PTR[mid]) <= e) { lo = mid; } else { hi = mid; }
  }
  return lo;
}

// out [nnz, H]: out[e, h] = sum_f x[row(e), h, f] * y[col(e), h, f];
// x [rows, H, F], y [cols, H, F]. One invocation per (edge, head).
// P[0] nnz * H, P[1] H, P[2] F, P[3] rows.
@compute @workgroup_size(WG)
fn sddmm(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let heads = P[1];
  let features = P[2];
  let e = i / heads;
  let h = i % heads;
  let x_base = (row_of_edge(e, P[3]) * heads + h) * features;
  let y_base = (u32(COL_IDX[e]) * heads + h) * features;
  var acc = 0.0;
  for (var f = 0u; f < features; f++) {
    acc = fma(DENSE_X[x_base + f], DENSE_Y[y_base + f], acc);
  }
  SPARSE_OUT[i] = acc;
}

// Softmax of scores (DENSE_X, [nnz, H]) over each row's edges, per head.
// One invocation per (row, head). P[0] rows * H, P[1] H.
@compute @workgroup_size(WG)
fn edge_softmax(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let heads = P[1];
  let row = i / heads;
  let h = i % heads;
  let begin = u32(ROW_PTR[row]);
  let end = u32(ROW_PTR[row + 1u]);
  if (begin == end) { return; }
  var peak = DENSE_X[begin * heads + h];
  for (var e = begin + 1u; e < end; e++) { peak = max(peak, DENSE_X[e * heads + h]); }
  var total = 0.0;
  for (var e = begin; e < end; e++) {
    let w = exp(DENSE_X[e * heads + h] - peak);
    SPARSE_OUT[e * heads + h] = w;
    total += w;
  }
  let scale = 1.0 / total;
  for (var e = begin; e < end; e++) { SPARSE_OUT[e * heads + h] *= scale; }
}

// grad = y * (g - sum_row(y * g)), y = DENSE_X, g = DENSE_Y, both [nnz, H].
// P[0] rows * H, P[1] H.
@compute @workgroup_size(WG)
fn edge_softmax_backward(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let heads = P[1];
  let row = i / heads;
  let h = i % heads;
  let begin = u32(ROW_PTR[row]);
  let end = u32(ROW_PTR[row + 1u]);
  var dot = 0.0;
  for (var e = begin; e < end; e++) { dot = fma(DENSE_X[e * heads + h], DENSE_Y[e * heads + h], dot); }
  for (var e = begin; e < end; e++) {
    let k = e * heads + h;
    SPARSE_OUT[k] = DENSE_X[k] * (DENSE_Y[k] - dot);
  }
}
