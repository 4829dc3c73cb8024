// Class-aware greedy non-maximum suppression (the cpu kernel's semantics) in three passes:
//  nms_rank  — each box's rank by descending score (ties by index, NaN scores last), O(K^2)
//              comparisons spread over K invocations, written as ORDER[rank] = box;
//  nms_mask  — bit b of word (a, b / 32) set when the boxes at ranks a < b share a group and
//              overlap with IoU > threshold, one invocation per word;
//  nms_scan  — one workgroup walks the ranks in order, keeping a box unless an earlier kept box
//              removed it, and ORs its mask row into the removed set held in workgroup memory.
// P[0] K, P[1] words per mask row (ceil(K / 32), at most NMS_MAX_WORDS), P[2] IoU threshold (f32 bits).

@group(0) @binding(1) var<storage, read> NMS_BOXES: array<f32>;
@group(0) @binding(2) var<storage, read> NMS_SCORES: array<f32>;
@group(0) @binding(3) var<storage, read> NMS_GROUPS: array<i32>;
@group(0) @binding(4) var<storage, read_write> NMS_ORDER: array<u32>;
@group(0) @binding(5) var<storage, read_write> NMS_MASK: array<u32>;
@group(0) @binding(6) var<storage, read_write> NMS_KEEP: array<i32>;

const NMS_MAX_WORDS: u32 = 4096u; // 16 KiB of workgroup memory: K <= 131072

fn nms_key(i: u32) -> f32 {
  let s = NMS_SCORES[i];
  if (is_nan(s)) { return -infinity(); }
  return s;
}

fn nms_iou(i: u32, j: u32) -> f32 {
  let a = vec4<f32>(NMS_BOXES[4u * i], NMS_BOXES[4u * i + 1u], NMS_BOXES[4u * i + 2u], NMS_BOXES[4u * i + 3u]);
  let b = vec4<f32>(NMS_BOXES[4u * j], NMS_BOXES[4u * j + 1u], NMS_BOXES[4u * j + 2u], NMS_BOXES[4u * j + 3u]);
  let w = min(a.z, b.z) - max(a.x, b.x);
  let h = min(a.w, b.w) - max(a.y, b.y);
  if (w <= 0.0 || h <= 0.0) { return 0.0; }
  let inter = w * h;
  let union_area = (a.z - a.x) * (a.w - a.y) + (b.z - b.x) * (b.w - b.y) - inter;
  if (union_area <= 0.0) { return 0.0; }
  return inter / union_area;
}

@compute @workgroup_size(WG)
fn nms_rank(t: Thread) {
  let i = thread_index(t);
  let count = P[0];
  if (i >= count) { return; }
  let key = nms_key(i);
  var rank = 0u;
  for (var j = 0u; j < count; j++) {
    let other = nms_key(j);
    if (other > key || (other == key && j < i)) { rank++; }
  }
  NMS_ORDER[rank] = i;
}

@compute @workgroup_size(WG)
fn nms_mask(t: Thread) {
  let id = thread_index(t);
  let count = P[0];
  let words = P[1];
  if (id >= count * words) { return; }
  let a = id / words;
  let first = (id % words) * 32u;
  let i = NMS_ORDER[a];
  let threshold = param_f32(2u);
  var bits = 0u;
  for (var k = 0u; k < 32u; k++) {
    let b = first + k;
    if (b <= a || b >= count) { continue; }
    let j = NMS_ORDER[b];
    if (NMS_GROUPS[i] == NMS_GROUPS[j] && nms_iou(i, j) > threshold) { bits |= 1u << k; }
  }
  NMS_MASK[id] = bits;
}

var<workgroup> nms_removed: array<u32, NMS_MAX_WORDS>;
var<workgroup> nms_kept: u32;

@compute @workgroup_size(WG)
fn nms_scan(@builtin(local_invocation_index) local: u32) {
  let count = P[0];
  let words = P[1];
  for (var w = local; w < words; w += WG) { nms_removed[w] = 0u; }
  if (local == 0u) { nms_kept = 0u; }
  for (var a = 0u; a < count; a++) {
    // The first barrier publishes the previous row's ORs; the second keeps them from racing this read.
    workgroupBarrier();
    let removed = (nms_removed[a / 32u] >> (a % 32u)) & 1u;
    workgroupBarrier();
    if (removed == 0u) {
      for (var w = local; w < words; w += WG) { nms_removed[w] |= NMS_MASK[a * words + w]; }
      if (local == 0u) {
        NMS_KEEP[1u + nms_kept] = i32(NMS_ORDER[a]);
        nms_kept += 1u;
      }
    }
  }
  workgroupBarrier();
  let kept = nms_kept;
  if (local == 0u) { NMS_KEEP[0] = i32(kept); }
  for (var k = 1u + kept + local; k <= count; k += WG) { NMS_KEEP[k] = -1; }
}
