// argsort along the middle axis of [outer, size, inner] (the cpu kernel's order: stable, NaN above every
// number, also when descending). Each invocation ranks one element by comparing it with the whole line,
// O(size) work per element (O(size^2) per line, all lines and elements in parallel), and writes its
// position at that rank: ranks are distinct because ties are broken by position.
// P[0] element count, P[1] size, P[2] inner, P[3] 1 when descending.

@group(0) @binding(1) var<storage, read> SORT_X: array<f32>;
@group(0) @binding(2) var<storage, read_write> SORT_OUT: array<i32>;

// Whether value a at position i sorts before value b at position j.
fn sort_before(a: f32, i: u32, b: f32, j: u32, descending: bool) -> bool {
  let na = is_nan(a);
  let nb = is_nan(b);
  if (na || nb) {
    if (na && nb) { return i < j; }
    return select(nb, na, descending);
  }
  if (a == b) { return i < j; }
  return select((a < b), (a > b), descending);
}

@compute @workgroup_size(WG)
fn argsort_rank(t: Thread) {
  let e = thread_index(t);
  if (e >= P[0]) { return; }
  let size = P[1];
  let inner = P[2];
  let descending = P[3] == 1u;
  let r = (e / inner) % size;
  let base = e - r * inner;
  let v = SORT_X[e];
  var rank = 0u;
  for (var q = 0u; q < size; q++) {
    if (sort_before(SORT_X[base + q * inner], q, v, r, descending)) { rank++; }
  }
  SORT_OUT[base + rank * inner] = i32(r);
}
