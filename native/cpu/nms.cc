// Class-aware greedy non-maximum suppression (torchvision's batched_nms): boxes are visited by
// descending score (ties by index, NaN scores last); a box is kept unless a kept box of the same
// group overlaps it with IoU > threshold. Groups are independent, so they run in parallel.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "families.h"
#include "threadpool.h"

namespace tessera {
namespace {

// nms(boxes [K*4] xyxy, scores [K], groups int32 [K], iouThreshold, keep int32 [K+1]):
// keep[0] = number kept, keep[1..] = their indices by descending score.
Napi::Value Nms(const Napi::CallbackInfo& info) {
  const char* kernel = "nms";
  const Span<float> boxes = f32_arg(info, 0, kernel, "boxes");
  const Span<float> scores = f32_arg(info, 1, kernel, "scores");
  const Span<int32_t> groups = i32_arg(info, 2, kernel, "groups");
  const double threshold = number_arg(info, 3, kernel, "iouThreshold");
  const Span<int32_t> keep = i32_arg(info, 4, kernel, "keep");
  const int64_t K = scores.size;
  require_length(kernel, "boxes", boxes.size, 4 * K);
  require_length(kernel, "groups", groups.size, K);
  require_length(kernel, "keep", keep.size, K + 1);

  auto key = [&](int64_t i) { return std::isnan(scores.data[i]) ? -INFINITY : scores.data[i]; };
  std::vector<int64_t> order(K);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return key(a) > key(b); });
  // Rank by score, then bucket by group keeping that rank order.
  std::vector<int64_t> by_group(order);
  std::stable_sort(by_group.begin(), by_group.end(),
                   [&](int64_t a, int64_t b) { return groups.data[a] < groups.data[b]; });
  std::vector<int64_t> starts;
  for (int64_t i = 0; i < K; i++)
    if (i == 0 || groups.data[by_group[i]] != groups.data[by_group[i - 1]]) starts.push_back(i);
  starts.push_back(K);

  const float* b = boxes.data;
  auto iou = [&](int64_t i, int64_t j) {
    const float w = std::min(b[4 * i + 2], b[4 * j + 2]) - std::max(b[4 * i], b[4 * j]);
    const float h = std::min(b[4 * i + 3], b[4 * j + 3]) - std::max(b[4 * i + 1], b[4 * j + 1]);
    if (w <= 0 || h <= 0) return 0.0f;
    const float inter = w * h;
    const float area_i = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
    const float area_j = (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]);
    const float uni = area_i + area_j - inter;
    return uni > 0 ? inter / uni : 0.0f;
  };
  std::vector<uint8_t> kept(K, 0);
  const int64_t num_groups = static_cast<int64_t>(starts.size()) - 1;
  parallel_for(num_groups, 1, [&](int64_t g0, int64_t g1) {
    std::vector<int64_t> survivors;
    for (int64_t g = g0; g < g1; g++) {
      survivors.clear();
      for (int64_t k = starts[g]; k < starts[g + 1]; k++) {
        const int64_t i = by_group[k];
        bool suppressed = false;
        for (int64_t s : survivors)
          if (iou(s, i) > threshold) { suppressed = true; break; }
        if (!suppressed) { survivors.push_back(i); kept[i] = 1; }
      }
    }
  });
  int64_t n = 0;
  for (int64_t i : order)
    if (kept[i]) keep.data[1 + n++] = static_cast<int32_t>(i);
  keep.data[0] = static_cast<int32_t>(n);
  for (int64_t k = 1 + n; k <= K; k++) keep.data[k] = -1;
  return info.Env().Undefined();
}

void InitNms(Napi::Env env, Napi::Object exports) { exports.Set("nms", Napi::Function::New(env, Nms, "nms")); }

}  // namespace

TESSERA_REGISTER_FAMILY(nms, InitNms);

}  // namespace tessera
