// Tiled GEMM core shared by matmul and the three convolutions (implicit
// GEMM): C[z] = A[z] (M x K) @ B[z] (K x N), z = workgroup_id.z (a batch or a
// convolution group). A workgroup of 16 x 16 invocations computes a 64 x 64
// tile of C, each invocation a 4 x 4 register block; 64 x 16 slabs of A and
// 16 x 64 slabs of B are staged in workgroup memory (8 KiB, within the 16 KiB
// every WebGPU adapter offers).
// The module appends one loader family (matmul.wgsl or conv.wgsl) that defines
// load_a(z, m, k), load_b(z, k, n) and store_c(z, m, n, value): how A and B are
// read (strides, im2col) and how C is stored (epilogue). Loads outside A and B
// return 0 here, which zero-pads the slabs.
// Parameters: P[0] M, P[1] N, P[2] K; the loaders take their own from P[3].

const TILE: u32 = 64u;
const TILE_K: u32 = 16u;
const SIDE: u32 = 16u;    // invocations per tile side
const BLOCK: u32 = 4u;    // TILE / SIDE: register block side

@group(0) @binding(1) var<storage, read_write> GEMM_C: array<f32>;
@group(0) @binding(2) var<storage, read> GEMM_A: array<f32>;
@group(0) @binding(3) var<storage, read> GEMM_B: array<f32>;
@group(0) @binding(4) var<storage, read> GEMM_BIAS: array<f32>;

var<workgroup> tile_a: array<array<f32, TILE>, TILE_K>; // [k][m]
var<workgroup> tile_b: array<array<f32, TILE>, TILE_K>; // [k][n]

fn gemm_load_a(z: u32, m: u32, k: u32) -> f32 {
  if (m >= P[0] || k >= P[2]) { return 0.0; }
  return load_a(z, m, k);
}

fn gemm_load_b(z: u32, k: u32, n: u32) -> f32 {
  if (k >= P[2] || n >= P[1]) { return 0.0; }
  return load_b(z, k, n);
}

// Loop bounds come from the parameters (the live part of the last K slab,
// the rows and columns of the block inside C): this skips dead work and also
// keeps shader compilers from unrolling 16 copies of the loaders, the inner
// step and the epilogue, which made a CPU driver (lavapipe) take 20 s to
// compile one pipeline.
@compute @workgroup_size(SIDE, SIDE)
fn gemm(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(local_invocation_id) local: vec3<u32>,
        @builtin(local_invocation_index) flat: u32) {
  let z = group.z;
  let m0 = group.y * TILE;
  let n0 = group.x * TILE;
  // Row i of the register block is C row m0 + local.y + i * SIDE; its
  // components are columns n0 + local.x + j * SIDE, so neighbouring
  // invocations store neighbouring columns.
  var acc: array<vec4<f32>, BLOCK>;
  for (var k0 = 0u; k0 < P[2]; k0 += TILE_K) {
    // 1024 elements per slab, 4 per invocation. A is loaded k-fastest and B
    // n-fastest, which makes neighbouring invocations read neighbouring
    // addresses for row-major operands.
    for (var r = 0u; r < 4u; r++) {
      let e = flat + r * SIDE * SIDE;
      let am = e / TILE_K;
      let ak = e % TILE_K;
      tile_a[ak][am] = gemm_load_a(z, m0 + am, k0 + ak);
      let bk = e / TILE;
      let bn = e % TILE;
      tile_b[bk][bn] = gemm_load_b(z, k0 + bk, n0 + bn);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < min(TILE_K, P[2] - k0); kk++) {
      let a = vec4(tile_a[kk][local.y], tile_a[kk][local.y + SIDE],
                   tile_a[kk][local.y + 2u * SIDE], tile_a[kk][local.y + 3u * SIDE]);
      let b = vec4(tile_b[kk][local.x], tile_b[kk][local.x + SIDE],
                   tile_b[kk][local.x + 2u * SIDE], tile_b[kk][local.x + 3u * SIDE]);
      for (var i = 0u; i < BLOCK; i++) {
        acc[i] = fma(vec4(a[i]), b, acc[i]);
      }
    }
    workgroupBarrier();
  }
  let m = m0 + local.y;
  let n = n0 + local.x;
  let rows = select(0u, min(BLOCK, (P[0] - m + SIDE - 1u) / SIDE), m < P[0]);
  let cols = select(0u, min(BLOCK, (P[1] - n + SIDE - 1u) / SIDE), n < P[1]);
  for (var i = 0u; i < rows; i++) {
    for (var j = 0u; j < cols; j++) {
      store_c(z, m + i * SIDE, n + j * SIDE, acc[i][j]);
    }
  }
}
