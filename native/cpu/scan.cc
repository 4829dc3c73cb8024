// Running sums and products along the middle axis of [outer, size, inner] (cumsum, cumprod and their
// reversed forms for gradients). float32 accumulates in double; int32 in uint32, which wraps as int32
// arithmetic does without the undefined behaviour of signed overflow. Lines run in parallel.
#include <cstdint>
#include <string>

#include "families.h"
#include "threadpool.h"

namespace tessera {
namespace {

template <class T, class Acc>
void scan_lines(const T* x, T* out, int64_t outer, int64_t size, int64_t inner, bool product, bool reverse) {
  parallel_for(outer * inner, 16, [&](int64_t l0, int64_t l1) {
    for (int64_t line = l0; line < l1; line++) {
      const int64_t base = (line / inner) * size * inner + line % inner;
      Acc acc = product ? Acc(1) : Acc(0);
      for (int64_t k = 0; k < size; k++) {
        const int64_t at = base + (reverse ? size - 1 - k : k) * inner;
        acc = product ? Acc(acc * Acc(x[at])) : Acc(acc + Acc(x[at]));
        out[at] = static_cast<T>(acc);
      }
    }
  });
}

// cumulative(op 'sum' | 'prod', x f32 | i32, outer, size, inner, reverse, out of x's type).
Napi::Value Cumulative(const Napi::CallbackInfo& info) {
  const char* kernel = "cumulative";
  const std::string op = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (op != "sum" && op != "prod") fail("cumulative: op must be 'sum' or 'prod', got '" + op + "' (cpu backend)");
  const int64_t outer = size_arg(info, 2, kernel, "outer");
  const int64_t size = size_arg(info, 3, kernel, "size");
  const int64_t inner = size_arg(info, 4, kernel, "inner");
  if (info.Length() <= 5 || !info[5].IsBoolean()) fail("cumulative: reverse must be a boolean (cpu backend)");
  const bool reverse = info[5].As<Napi::Boolean>().Value();
  const int64_t n = checked_product({outer, size, inner}, kernel);
  const bool is_int = info.Length() > 1 && info[1].IsTypedArray() &&
                      info[1].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array;
  if (is_int) {
    const Span<int32_t> x = i32_arg(info, 1, kernel, "x"), out = i32_arg(info, 6, kernel, "out");
    require_length(kernel, "x", x.size, n);
    require_length(kernel, "out", out.size, n);
    scan_lines<int32_t, uint32_t>(x.data, out.data, outer, size, inner, op == "prod", reverse);
  } else {
    const Span<float> x = f32_arg(info, 1, kernel, "x"), out = f32_arg(info, 6, kernel, "out");
    require_length(kernel, "x", x.size, n);
    require_length(kernel, "out", out.size, n);
    scan_lines<float, double>(x.data, out.data, outer, size, inner, op == "prod", reverse);
  }
  return info.Env().Undefined();
}

void InitScan(Napi::Env env, Napi::Object exports) {
  exports.Set("cumulative", Napi::Function::New(env, Cumulative, "cumulative"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(scan, InitScan);

}  // namespace tessera
