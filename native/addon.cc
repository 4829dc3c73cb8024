// The N-API module: every kernel family registered through families.h, the optional CUDA
// bindings, and info()/setSimd() for diagnostics and tests.
#include <napi.h>

#include <string>

#include "cpu/families.h"
#include "cpu/simd.h"
#include "cpu/threadpool.h"
#ifdef TESSERA_HAVE_CUDA
#include "cuda/binding.h"
#endif

#ifndef TESSERA_BUILD_FLAGS
#define TESSERA_BUILD_FLAGS "unknown"
#endif

namespace tessera {
namespace {

constexpr bool kHaveCuda =
#ifdef TESSERA_HAVE_CUDA
    true;
#else
    false;
#endif

// info(): {simd, threads, cuda, buildFlags}
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("simd", isa_name(active_isa()));
  o.Set("threads", num_threads());
  o.Set("cuda", kHaveCuda);
  o.Set("buildFlags", TESSERA_BUILD_FLAGS);
  return o;
}

// setSimd(level): lowers the instruction set kernels use ('scalar' | 'avx2' | 'avx512'), capped at what
// the CPU supports; returns the level in effect. For tests that cover every code path.
Napi::Value SetSimd(const Napi::CallbackInfo& info) {
  std::string wanted = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  Isa isa;
  if (wanted == "avx512") isa = Isa::avx512;
  else if (wanted == "avx2") isa = Isa::avx2;
  else if (wanted == "scalar") isa = Isa::scalar;
  else fail("setSimd: expected 'scalar', 'avx2' or 'avx512', got '" + wanted + "'");
  return Napi::String::New(info.Env(), isa_name(set_active_isa(isa)));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (const auto& family : family_registry()) family.second(env, exports);
#ifdef TESSERA_HAVE_CUDA
  RegisterCuda(env, exports);
#endif
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setSimd", Napi::Function::New(env, SetSimd, "setSimd"));
  return exports;
}

}  // namespace
}  // namespace tessera

static Napi::Object InitTessera(Napi::Env env, Napi::Object exports) { return tessera::Init(env, exports); }

NODE_API_MODULE(tessera, InitTessera)
