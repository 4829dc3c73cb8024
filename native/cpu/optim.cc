// Optimizer updates (src/backend/interface.ts: adamUpdate, sgdUpdate): one pass over a parameter that
// rewrites it and its state in place, where the composed update made about a dozen passes and temporaries.
// The arithmetic is float32 with the hyperparameters rounded to float32, as torch's foreach-free step
// computes it; the loops are plain so that the compiler vectorizes them.
#include <cmath>
#include <string>

#include "families.h"
#include "threadpool.h"

namespace tessera {
namespace {

// Elements per task: a pass this cheap pays for a hand-off only over large parameters.
constexpr int64_t kGrain = 1 << 16;

/** Argument i as a Float32Array of exactly n elements. */
float* operand(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* role, int64_t n) {
  const Span<float> s = f32_arg(info, i, kernel, role);
  if (s.size != n) {
    fail(std::string(kernel) + ": " + role + " has " + std::to_string(s.size) + " elements, the record says n = " +
         std::to_string(n) + " (cpu backend)");
  }
  return s.data;
}

/** Fails when two operands share memory: the kernel reads each element of one after writing another. */
void require_distinct(const char* kernel, std::initializer_list<const float*> ptrs, int64_t n) {
  for (auto a = ptrs.begin(); a != ptrs.end(); ++a)
    for (auto b = a + 1; b != ptrs.end(); ++b)
      if (n > 0 && *a < *b + n && *b < *a + n) fail(std::string(kernel) + ": operands overlap (cpu backend)");
}

// adamUpdate(param, grad, expAvg, expAvgSq, record)
Napi::Value AdamUpdate(const Napi::CallbackInfo& info) {
  const char* kernel = "adamUpdate";
  const tsr_adam_params p = record_arg<tsr_adam_params>(info, 4, kernel);
  if (p.n < 0 || (p.decoupled != 0 && p.decoupled != 1)) fail("adamUpdate: needs n >= 0 and decoupled 0 or 1 (cpu backend)");
  float* x = operand(info, 0, kernel, "param", p.n);
  const float* g = operand(info, 1, kernel, "grad", p.n);
  float* m = operand(info, 2, kernel, "expAvg", p.n);
  float* v = operand(info, 3, kernel, "expAvgSq", p.n);
  require_distinct(kernel, {x, g, m, v}, p.n);
  const float decay = p.decoupled ? static_cast<float>(1 - p.lr * p.weight_decay) : 1.f;
  const float l2 = p.decoupled ? 0.f : static_cast<float>(p.weight_decay);
  const float b1 = static_cast<float>(p.beta1), b2 = static_cast<float>(p.beta2);
  const float c1 = static_cast<float>(1 - p.beta1), c2 = static_cast<float>(1 - p.beta2);
  const float step = static_cast<float>(p.step_size), bc2 = static_cast<float>(p.bias_correction2_sqrt);
  const float eps = static_cast<float>(p.eps);
  parallel_for(p.n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const float d = g[i] + l2 * x[i];
      const float mi = b1 * m[i] + c1 * d;
      const float vi = b2 * v[i] + c2 * d * d;
      m[i] = mi;
      v[i] = vi;
      x[i] = x[i] * decay - step * (mi / (std::sqrt(vi) / bc2 + eps));
    }
  });
  return info.Env().Undefined();
}

// sgdUpdate(param, grad, momentumBuffer, record)
Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  const char* kernel = "sgdUpdate";
  const tsr_sgd_params p = record_arg<tsr_sgd_params>(info, 3, kernel);
  if (p.n < 0 || (p.nesterov != 0 && p.nesterov != 1) || (p.first != 0 && p.first != 1)) {
    fail("sgdUpdate: needs n >= 0 and nesterov, first 0 or 1 (cpu backend)");
  }
  float* x = operand(info, 0, kernel, "param", p.n);
  const float* g = operand(info, 1, kernel, "grad", p.n);
  float* buf = operand(info, 2, kernel, "momentumBuffer", p.n);
  require_distinct(kernel, {x, g, buf}, p.n);
  const float lr = static_cast<float>(p.lr), wd = static_cast<float>(p.weight_decay);
  const float mu = static_cast<float>(p.momentum), undamped = static_cast<float>(1 - p.dampening);
  const bool first = p.first, nesterov = p.nesterov;
  parallel_for(p.n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const float d = g[i] + wd * x[i];
      const float b = first ? d : mu * buf[i] + undamped * d;
      buf[i] = b;
      x[i] -= lr * (nesterov ? d + mu * b : b);
    }
  });
  return info.Env().Undefined();
}

void InitOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate, "adamUpdate"));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate, "sgdUpdate"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(optim, InitOptim);

}  // namespace tessera
