// The N-API module: every kernel family registered through families.h, the optional CUDA
// bindings, info()/setSimd() for diagnostics and tests, captureStderr()/releaseStderr(), and the
// schema the addon was built with.
#include <napi.h>
#include <unistd.h>

#include <cstdio>
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

// adjustExternalMemory(deltaBytes): tells V8 about memory it cannot see (WebGPU device buffers behind small
// GPUBuffer objects), so that dropped tensors holding it make the collector run; returns V8's new total.
Napi::Value AdjustExternalMemory(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) fail("adjustExternalMemory: expected a number of bytes");
  const int64_t delta = info[0].As<Napi::Number>().Int64Value();
  return Napi::Number::New(info.Env(), double(Napi::MemoryManagement::AdjustExternalMemory(info.Env(), delta)));
}

// releaseArray(typedArray): detaches the typed array's ArrayBuffer, which frees its memory now instead of at the
// next garbage collection (no other ArrayBuffer shares a backend's storage); the array reads as empty after.
// The cpu backend calls it on freed storage that its pool does not keep.
Napi::Value ReleaseArray(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsTypedArray()) fail("releaseArray: expected a typed array");
  Napi::ArrayBuffer buffer = info[0].As<Napi::TypedArray>().ArrayBuffer();
  if (!buffer.IsDetached()) buffer.Detach();
  return info.Env().Undefined();
}

// captureStderr() sends file descriptor 2 into an anonymous temporary file until releaseStderr(), which
// puts it back and returns what was written meanwhile. The webgpu backend's start-up runs inside it:
// Dawn prints notices (limits it lowers) straight to fd 2, where no JavaScript stream can catch them.
int saved_stderr = -1;
FILE* captured_stderr = nullptr;

Napi::Value CaptureStderr(const Napi::CallbackInfo& info) {
  if (captured_stderr) fail("captureStderr: stderr is already captured");
  FILE* file = std::tmpfile();
  if (!file) fail("captureStderr: no temporary file");
  std::fflush(stderr);
  saved_stderr = dup(2);
  if (saved_stderr < 0 || dup2(fileno(file), 2) < 0) {
    if (saved_stderr >= 0) close(saved_stderr);
    std::fclose(file);
    fail("captureStderr: could not redirect file descriptor 2");
  }
  captured_stderr = file;
  return info.Env().Undefined();
}

Napi::Value ReleaseStderr(const Napi::CallbackInfo& info) {
  if (!captured_stderr) fail("releaseStderr: stderr is not captured");
  std::fflush(stderr);
  dup2(saved_stderr, 2);
  close(saved_stderr);
  std::string text;
  std::rewind(captured_stderr);
  char chunk[4096];
  for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, captured_stderr)) > 0;) text.append(chunk, n);
  std::fclose(captured_stderr);
  captured_stderr = nullptr;
  return Napi::String::New(info.Env(), text);
}

// schema: {codes: {unary: [...], ...}, records: {conv: 'iii...', ...}} from kernels/schema.h, which the
// backends compare with src/schema.ts to catch an addon built from another schema.
Napi::Object Schema(Napi::Env env) {
  Napi::Object codes = Napi::Object::New(env);
#define TESSERA_EXPORT_CODES(key, names) \
  codes.Set(#key, string_array(env, names, static_cast<int>(sizeof(names) / sizeof(names[0]))));
  TSR_CODE_LISTS(TESSERA_EXPORT_CODES)
#undef TESSERA_EXPORT_CODES
  Napi::Object records = Napi::Object::New(env);
#define TESSERA_EXPORT_RECORD(key, type, slots) records.Set(#key, slots);
  TSR_RECORDS(TESSERA_EXPORT_RECORD)
#undef TESSERA_EXPORT_RECORD
  Napi::Object schema = Napi::Object::New(env);
  schema.Set("codes", codes);
  schema.Set("records", records);
  return schema;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (const auto& family : family_registry()) family.second(env, exports);
#ifdef TESSERA_HAVE_CUDA
  RegisterCuda(env, exports);
#endif
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setSimd", Napi::Function::New(env, SetSimd, "setSimd"));
  exports.Set("adjustExternalMemory", Napi::Function::New(env, AdjustExternalMemory, "adjustExternalMemory"));
  exports.Set("releaseArray", Napi::Function::New(env, ReleaseArray, "releaseArray"));
  exports.Set("captureStderr", Napi::Function::New(env, CaptureStderr, "captureStderr"));
  exports.Set("releaseStderr", Napi::Function::New(env, ReleaseStderr, "releaseStderr"));
  exports.Set("schema", Schema(env));
  return exports;
}

}  // namespace
}  // namespace tessera

static Napi::Object InitTessera(Napi::Env env, Napi::Object exports) { return tessera::Init(env, exports); }

NODE_API_MODULE(tessera, InitTessera)
