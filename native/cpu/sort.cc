// Sorting: argsort along the middle axis of [outer, size, inner] (torch.sort's order: stable, NaN above
// every number, also when descending). Lines are independent, so they run in parallel.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "families.h"
#include "threadpool.h"

namespace tessera {
namespace {

// argsort(x f32 [outer*size*inner], outer, size, inner, descending, out i32 [outer*size*inner]).
Napi::Value Argsort(const Napi::CallbackInfo& info) {
  const char* kernel = "argsort";
  const Span<float> x = f32_arg(info, 0, kernel, "x");
  const int64_t outer = size_arg(info, 1, kernel, "outer");
  const int64_t size = size_arg(info, 2, kernel, "size");
  const int64_t inner = size_arg(info, 3, kernel, "inner");
  if (info.Length() <= 4 || !info[4].IsBoolean()) fail("argsort: descending must be a boolean (cpu backend)");
  const bool descending = info[4].As<Napi::Boolean>().Value();
  const Span<int32_t> out = i32_arg(info, 5, kernel, "out");
  const int64_t n = checked_product({outer, size, inner}, kernel);
  require_length(kernel, "x", x.size, n);
  require_length(kernel, "out", out.size, n);
  if (size > INT32_MAX) fail("argsort: an axis of " + std::to_string(size) + " elements does not fit int32 indices (cpu backend)");

  parallel_for(outer * inner, 1, [&](int64_t l0, int64_t l1) {
    std::vector<int32_t> order(size);
    for (int64_t line = l0; line < l1; line++) {
      const float* src = x.data + (line / inner) * size * inner + line % inner;
      int32_t* dst = out.data + (line / inner) * size * inner + line % inner;
      std::iota(order.begin(), order.end(), 0);
      // Whether a sorts strictly before b: NaN is the largest value.
      auto before = [&](int32_t a, int32_t b) {
        const float va = src[a * inner], vb = src[b * inner];
        const bool na = std::isnan(va), nb = std::isnan(vb);
        if (na || nb) return descending ? (na && !nb) : (!na && nb);
        return descending ? va > vb : va < vb;
      };
      std::stable_sort(order.begin(), order.end(), before);
      for (int64_t k = 0; k < size; k++) dst[k * inner] = order[k];
    }
  });
  return info.Env().Undefined();
}

void InitSort(Napi::Env env, Napi::Object exports) { exports.Set("argsort", Napi::Function::New(env, Argsort, "argsort")); }

}  // namespace

TESSERA_REGISTER_FAMILY(sort, InitSort);

}  // namespace tessera
