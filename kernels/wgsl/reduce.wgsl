// Reductions of the middle axis of a dense [outer, size, inner] array into
// [outer, inner]. Prelude: alias T (element type), alias TO (output type:
// T, or i32 for argmax/argmin) and const OP (a REDUCE_* code).
// Parameters: P[0] output count, P[1] size, P[2] inner,
//             P[3] bits (in T) of the value written for an empty max/min.
// Sums are pairwise within each invocation (sum_cascade) and across the
// workgroup, so the error grows with log(size); max/min keep the first index
// among equal values, and NaN wins.

@group(0) @binding(1) var<storage, read_write> OUT: array<TO>;
@group(0) @binding(2) var<storage, read> X: array<T>;

// index < 0 marks "no element seen yet" for max/min/argmax/argmin.
struct Partial { value: T, index: i32 }

const IS_SUM = OP == REDUCE_SUM;
const IS_PROD = OP == REDUCE_PROD;
const TAKES_LARGER = OP == REDUCE_MAX || OP == REDUCE_ARGMAX;
const WRITES_INDEX = OP == REDUCE_ARGMAX || OP == REDUCE_ARGMIN;

fn empty_partial() -> Partial {
  if (IS_SUM) { return Partial(T(0), 0); }
  if (IS_PROD) { return Partial(T(1), 0); }
  return Partial(T(0), -1);
}

fn combine(a: Partial, b: Partial) -> Partial {
  if (IS_SUM) { return Partial(a.value + b.value, 0); }
  if (IS_PROD) { return Partial(a.value * b.value, 0); }
  if (b.index < 0) { return a; }
  if (a.index < 0) { return b; }
  // NaN wins (the first one, like the first of equal values).
  // f32(v) is exact for f32 and never NaN for i32.
  let a_nan = is_nan(f32(a.value));
  let b_nan = is_nan(f32(b.value));
  if (a_nan || b_nan) {
    if (b_nan && (!a_nan || b.index < a.index)) { return b; }
    return a;
  }
  let better = select((b.value < a.value), (b.value > a.value), TAKES_LARGER);
  if (better || (b.value == a.value && b.index < a.index)) { return b; }
  return a;
}

const CASCADE_BLOCK = 16u;

// The sum of elements first, first + step, ... below size of the row at base:
// blocks of CASCADE_BLOCK summed in order, block sums merged like the carries
// of a binary counter (level l holds the sum of 2^l blocks). Kahan summation
// would be as accurate, but shader compilers may simplify its compensation
// away (lavapipe did: the mean of 2^25 equal values was off by 1e-3).
fn sum_cascade(base: u32, inner: u32, first: u32, step: u32, size: u32) -> T {
  var levels: array<T, 32>;
  var blocks = 0u;
  var block = T(0);
  var in_block = 0u;
  for (var s = first; s < size; s += step) {
    block += X[base + s * inner];
    in_block++;
    if (in_block == CASCADE_BLOCK) {
      var carry = block;
      var level = 0u;
      while (((blocks >> level) & 1u) == 1u) {
        carry += levels[level];
        level++;
      }
      levels[level] = carry;
      blocks++;
      block = T(0);
      in_block = 0u;
    }
  }
  var total = block;
  for (var level = 0u; level < 32u; level++) {
    if (((blocks >> level) & 1u) == 1u) { total += levels[level]; }
  }
  return total;
}

// Elements first, first + step, ... below size of the row starting at base.
fn partial_over(base: u32, inner: u32, first: u32, step: u32, size: u32) -> Partial {
  if (IS_SUM) { return Partial(sum_cascade(base, inner, first, step, size), 0); }
  var acc = empty_partial();
  for (var s = first; s < size; s += step) {
    let v = X[base + s * inner];
    if (IS_PROD) {
      acc.value *= v;
    } else {
      acc = combine(acc, Partial(v, i32(s)));
    }
  }
  return acc;
}

fn finish(o: u32, acc: Partial) {
  if (WRITES_INDEX) {
    OUT[o] = TO(max(acc.index, 0)); // 0 for an empty row
  } else if (acc.index < 0) {
    OUT[o] = TO(bitcast<T>(P[3]));
  } else {
    OUT[o] = TO(acc.value);
  }
}

fn row_base(o: u32) -> u32 {
  let size = P[1];
  let inner = P[2];
  return (o / inner) * size * inner + o % inner;
}

var<workgroup> shared_partials: array<Partial, WG>;

// One workgroup per output: for long rows with a small inner extent.
// (Separate builtins rather than Thread: the barriers need `o` to be
// provably uniform, and a struct holding the local index is not.)
@compute @workgroup_size(WG)
fn reduce_by_workgroup(@builtin(workgroup_id) group: vec3<u32>,
                       @builtin(num_workgroups) groups: vec3<u32>,
                       @builtin(local_invocation_index) local: u32) {
  let o = linear_group(group, groups);
  if (o >= P[0]) { return; }
  shared_partials[local] = partial_over(row_base(o), P[2], local, WG, P[1]);
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (local < half) {
      shared_partials[local] = combine(shared_partials[local], shared_partials[local + half]);
    }
    workgroupBarrier();
  }
  if (local == 0u) { finish(o, shared_partials[0]); }
}

// One invocation per output: neighbours read neighbouring inner positions,
// so the reads coalesce when inner is large.
@compute @workgroup_size(WG)
fn reduce_by_invocation(t: Thread) {
  let o = thread_index(t);
  if (o >= P[0]) { return; }
  finish(o, partial_over(row_base(o), P[2], 0u, 1u, P[1]));
}
