// Class-aware greedy non-maximum suppression, the cpu kernel's semantics, in three kernels as
// kernels/wgsl/nms.wgsl: rank by descending score (ties by index, NaN last) with O(K) comparisons
// per box; a suppression bit mask, one 32-bit word per thread (bit b of row a: the boxes at ranks
// a < b share a group and overlap with IoU > threshold); one block walks the ranks in order with
// the removed set in shared memory. keep[0] = number kept, then their indices, then -1.
#include "kernels/cuda/common.cuh"

namespace tessera::cuda {
namespace {

constexpr int kScanThreads = 1024;
constexpr int64_t kMaxWords = 12288;  // 48 KiB of shared memory for the removed set: K <= 393216

__device__ __forceinline__ float nms_key(const float* scores, int64_t i) {
  const float s = scores[i];
  return isnan(s) ? -INFINITY : s;
}

__global__ void nms_rank_kernel(const float* __restrict__ scores, int64_t count, int32_t* __restrict__ order) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const float key = nms_key(scores, i);
  int64_t rank = 0;
  for (int64_t j = 0; j < count; ++j) {
    const float other = nms_key(scores, j);
    rank += other > key || (other == key && j < i);
  }
  order[rank] = static_cast<int32_t>(i);
}

__device__ __forceinline__ float nms_iou(const float4 a, const float4 b) {
  const float w = fminf(a.z, b.z) - fmaxf(a.x, b.x), h = fminf(a.w, b.w) - fmaxf(a.y, b.y);
  if (w <= 0.0f || h <= 0.0f) return 0.0f;
  const float inter = w * h;
  const float uni = (a.z - a.x) * (a.w - a.y) + (b.z - b.x) * (b.w - b.y) - inter;
  return uni > 0.0f ? inter / uni : 0.0f;
}

__global__ void nms_mask_kernel(const float4* __restrict__ boxes, const int32_t* __restrict__ groups,
                                const int32_t* __restrict__ order, int64_t count, int64_t words, float threshold,
                                uint32_t* __restrict__ mask) {
  const int64_t id = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (id >= count * words) return;
  const int64_t a = id / words, first = (id % words) * 32;
  const int32_t i = order[a];
  const float4 box = boxes[i];
  uint32_t bits = 0;
  for (int k = 0; k < 32; ++k) {
    const int64_t b = first + k;
    if (b <= a || b >= count) continue;
    const int32_t j = order[b];
    if (groups[i] == groups[j] && nms_iou(box, boxes[j]) > threshold) bits |= 1u << k;
  }
  mask[id] = bits;
}

__global__ void __launch_bounds__(kScanThreads)
    nms_scan_kernel(const int32_t* __restrict__ order, const uint32_t* __restrict__ mask, int64_t count, int64_t words,
                    int32_t* __restrict__ keep) {
  extern __shared__ uint32_t removed[];
  __shared__ int64_t kept;
  for (int64_t w = threadIdx.x; w < words; w += blockDim.x) removed[w] = 0;
  if (threadIdx.x == 0) kept = 0;
  for (int64_t a = 0; a < count; ++a) {
    __syncthreads();  // the previous row's ORs are visible
    const bool is_removed = (removed[a / 32] >> (a % 32)) & 1u;
    __syncthreads();  // and no thread ORs into the word just read before all have read it
    if (is_removed) continue;
    for (int64_t w = threadIdx.x; w < words; w += blockDim.x) removed[w] |= mask[a * words + w];
    if (threadIdx.x == 0) keep[1 + kept++] = order[a];
  }
  __syncthreads();
  if (threadIdx.x == 0) keep[0] = static_cast<int32_t>(kept);
  for (int64_t k = 1 + kept + threadIdx.x; k <= count; k += blockDim.x) keep[k] = -1;
}

cudaError_t nms(const float* boxes, const float* scores, const int32_t* groups, int64_t count, double threshold,
                int32_t* keep, cudaStream_t s) {
  const int64_t words = ceil_div(count, 32);
  Scratch order(size_t(imax<int64_t>(count, 1)) * sizeof(int32_t), s);
  Scratch mask(size_t(imax<int64_t>(count * words, 1)) * sizeof(uint32_t), s);
  if (order.status() != cudaSuccess) return order.status();
  if (mask.status() != cudaSuccess) return mask.status();
  auto* ord = static_cast<int32_t*>(order.get());
  auto* bits = static_cast<uint32_t*>(mask.get());
  if (count > 0) {
    nms_rank_kernel<<<unsigned(ceil_div(count, 256)), 256, 0, s>>>(scores, count, ord);
    nms_mask_kernel<<<unsigned(ceil_div(count * words, 256)), 256, 0, s>>>(reinterpret_cast<const float4*>(boxes), groups, ord,
                                                                           count, words, float(threshold), bits);
  }
  nms_scan_kernel<<<1, kScanThreads, size_t(imax<int64_t>(words, 1)) * sizeof(uint32_t), s>>>(ord, bits, count, words, keep);
  return cudaGetLastError();
}

}  // namespace
}  // namespace tessera::cuda

// ---- C ABI (capi.h): every argument is checked here, then the launch ----

using namespace tessera::cuda;

extern "C" {

int tsr_cuda_nms(const float* boxes, const float* scores, const int32_t* groups, int64_t count, double iou_threshold,
                 int32_t* keep, void* stream) {
  return guarded("nms", [&]() -> int {
    if (count < 0) return invalid("nms", "negative box count");
    if (ceil_div(count, 32) > kMaxWords) return invalid("nms", std::to_string(count) + " boxes, at most " + std::to_string(kMaxWords * 32) + " fit the scan's shared memory");
    if (!(iou_threshold >= 0 && iou_threshold <= 1)) return invalid("nms", "iou_threshold outside [0, 1]");
    if (!keep || (count > 0 && (!boxes || !scores || !groups))) return invalid("nms", "null pointer");
    return check("nms", std::to_string(count) + " boxes", nms(boxes, scores, groups, count, iou_threshold, keep, as_stream(stream)));
  });
}

}  // extern "C"
