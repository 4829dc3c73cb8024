// Indexed reads and writes along one axis. Prelude: alias T (data type),
// alias TI (index type), const IS_FLOAT (T is f32).
// Both use the strided layout of common.wgsl over the shape of idx; the
// data operand's stride on `axis` is set to 0 by the host and applied here
// to the index read from idx:
//   P[STRIDED_EXTRA] stride of the data on axis, P[STRIDED_EXTRA + 1] its extent.
//   P[STRIDED_EXTRA + 2] the op's slot in the host's list of index checks.
// An index outside [0, extent) cannot raise an error on a GPU: gather writes
// 0 and scatterAdd skips the element, and the first bad index is recorded in
// INDEX_ERROR (count, value, slot, extent), which the host reads at the next
// read() or sync() and raises as an Error naming the op (runtime.ts).

@group(0) @binding(1) var<storage, read_write> GATHER_OUT: array<T>;
@group(0) @binding(2) var<storage, read> DATA: array<T>;
@group(0) @binding(3) var<storage, read> INDEX: array<TI>;
// scatterAdd accumulates through 32-bit atomics: integer adds directly (two's
// complement addition is the same on u32), float by compare-exchange.
@group(0) @binding(4) var<storage, read_write> SCATTER_OUT: array<atomic<u32>>;

@group(0) @binding(5) var<storage, read_write> INDEX_ERROR: array<atomic<u32>, 4>;

fn axis_position(raw: TI) -> i32 {
  let j = i32(raw);
  let extent = P[STRIDED_EXTRA + 1u];
  if (j >= 0 && u32(j) < extent) { return j; }
  if (atomicAdd(&INDEX_ERROR[0], 1u) == 0u) {
    atomicStore(&INDEX_ERROR[1], bitcast<u32>(j));
    atomicStore(&INDEX_ERROR[2], P[STRIDED_EXTRA + 2u]);
    atomicStore(&INDEX_ERROR[3], extent);
  }
  return -1;
}

// Operand 0: idx, operand 1: x. out[i] = x[.., idx[i], ..].
@compute @workgroup_size(WG)
fn gather(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let o = strided_offsets(i);
  let j = axis_position(INDEX[o.x]);
  if (j < 0) {
    GATHER_OUT[i] = T(0);
  } else {
    GATHER_OUT[i] = DATA[o.y + j * param_i32(STRIDED_EXTRA)];
  }
}

// Operand 0: idx, operand 1: src, operand 2: out (dense). The order in which
// concurrent float adds land is not fixed, so float sums may differ in the
// last bits between runs.
@compute @workgroup_size(WG)
fn scatter_add(t: Thread) {
  let i = thread_index(t);
  if (i >= P[0]) { return; }
  let o = strided_offsets(i);
  let j = axis_position(INDEX[o.x]);
  if (j < 0) { return; }
  let value = DATA[o.y];
  let slot = u32(o.z + j * param_i32(STRIDED_EXTRA));
  if (IS_FLOAT) {
    var seen = atomicLoad(&SCATTER_OUT[slot]);
    loop {
      let sum = bitcast<u32>(bitcast<f32>(seen) + f32(value));
      let swap = atomicCompareExchangeWeak(&SCATTER_OUT[slot], seen, sum);
      if (swap.exchanged) { break; }
      seen = swap.old_value;
    }
  } else {
    atomicAdd(&SCATTER_OUT[slot], bitcast<u32>(i32(value)));
  }
}
