// The machine's limits for the benchmark's roofline (bench/cases/limits.ts): the FP32 FMA peak of
// each instruction set and a STREAM-style triad bandwidth. Nothing here serves tensors; these
// exist so that `tessera bench` can say how far each kernel is from what the hardware allows.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "families.h"
#include "simd.h"
#include "threadpool.h"

namespace tessera {
namespace {

// Independent FMA chains per thread: a chain waits ~4 cycles for its previous FMA, and current
// cores (Zen 4/5, Skylake-X, Ice Lake) issue 2 FMAs a cycle, so 8 chains fill the pipes; 12 leave
// margin and still fit in 16 vector registers for AVX2.
constexpr int kChains = 12;

/** kChains chains of acc = acc * m + a over L-lane vectors, `iterations` times; returns a value
 *  depending on every lane so the compiler cannot drop the work. m < 1 keeps values finite and
 *  normal (they converge to a / (1 - m)). */
template <int L>
TESSERA_INLINE float fma_chains(int64_t iterations, float seed) {
  typedef float F __attribute__((vector_size(L * 4)));
  F acc[kChains];
  for (int c = 0; c < kChains; c++) acc[c] = F{} + (seed + static_cast<float>(c));
  const F m = F{} + 0.999999f, a = F{} + 1e-6f;
  for (int64_t i = 0; i < iterations; i++)
    for (int c = 0; c < kChains; c++) acc[c] = acc[c] * m + a;
  F total = acc[0];
  for (int c = 1; c < kChains; c++) total += acc[c];
  float lanes[L];
  std::memcpy(lanes, &total, sizeof lanes);
  float s = 0;
  for (int i = 0; i < L; i++) s += lanes[i];
  return s;
}

/** Under AVX-512 the dispatch hands W = 8 (256-bit, see simd.h); `wide` doubles it to 512-bit
 *  registers, which is what the peak of that instruction set needs. */
template <int W>
struct FmaPeak {
  static TESSERA_INLINE float run(int64_t iterations, float seed, bool wide) {
    return wide ? fma_chains<2 * W>(iterations, seed) : fma_chains<W>(iterations, seed);
  }
};

template <int W>
struct Triad {
  static TESSERA_INLINE void run(float* a, const float* b, const float* c, float s, int64_t begin, int64_t end) {
    using V = Vec<W>;
    const typename V::F vs = V::splat(s);
    int64_t i = begin;
    for (; i + W <= end; i += W) V::store(a + i, V::load(b + i) + vs * V::load(c + i));
    for (; i < end; i++) a[i] = b[i] + s * c[i];
  }
};

Isa isa_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel) {
  std::string name = i < info.Length() && info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : "";
  Isa isa;
  if (name == "avx512") isa = Isa::avx512;
  else if (name == "avx2") isa = Isa::avx2;
  else if (name == "scalar") isa = Isa::scalar;
  else fail(std::string(kernel) + ": isa must be 'scalar', 'avx2' or 'avx512', got '" + name + "' (cpu backend)");
  if (static_cast<int>(isa) > static_cast<int>(best_isa()))
    fail(std::string(kernel) + ": this CPU does not support " + name + " (best: " + isa_name(best_isa()) + ")");
  return isa;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// limitsFmaPeak(isa, chunks, iterationsPerChunk) -> {seconds, flops, lanes, threads}
// chunks == 1 runs on the calling thread alone; more chunks are shared out over the pool's threads
// (TESSERA_NUM_THREADS), so a thread that starts late does fewer and the rate is what they achieve together.
Napi::Value LimitsFmaPeak(const Napi::CallbackInfo& info) {
  const char* k = "limitsFmaPeak";
  Isa isa = isa_arg(info, 0, k);
  int64_t chunks = size_arg(info, 1, k, "chunks");
  int64_t iterations = size_arg(info, 2, k, "iterationsPerChunk");
  if (chunks < 1) fail("limitsFmaPeak: chunks must be >= 1 (cpu backend)");
  const bool wide = isa == Isa::avx512;
  const int lanes = isa == Isa::scalar ? 4 : (wide ? 16 : 8);
  std::vector<float> sink(chunks);
  auto t0 = std::chrono::steady_clock::now();
  parallel_for(chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; c++) sink[c] = simd_run<FmaPeak>(isa, iterations, static_cast<float>(c), wide);
  });
  double seconds = seconds_since(t0);
  float check = 0;
  for (float v : sink) check += v;
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("seconds", seconds);
  o.Set("flops", 2.0 * kChains * lanes * static_cast<double>(iterations) * static_cast<double>(chunks));
  o.Set("lanes", lanes);
  o.Set("threads", chunks == 1 ? 1 : num_threads());
  o.Set("checksum", check);
  return o;
}

// limitsTriad(floats, repeats, parallel) -> {seconds (best of repeats), bytes}
// a[i] = b[i] + s c[i] over three arrays of `floats` float32 each, allocated and first touched here
// (by the threads that later use them). bytes counts STREAM's way: two reads and one write, 12 per
// element, without the write-allocate read a cached store also costs.
Napi::Value LimitsTriad(const Napi::CallbackInfo& info) {
  const char* k = "limitsTriad";
  int64_t n = size_arg(info, 0, k, "floats");
  int64_t repeats = size_arg(info, 1, k, "repeats");
  bool parallel = info.Length() > 2 && info[2].ToBoolean().Value();
  if (n < 1 || repeats < 1) fail("limitsTriad: floats and repeats must be >= 1 (cpu backend)");
  // new float[n] leaves the pages untouched: the first writes below place them.
  std::unique_ptr<float[]> a(new float[n]), b(new float[n]), c(new float[n]);
  float *pa = a.get(), *pb = b.get(), *pc = c.get();
  const int threads = parallel ? num_threads() : 1;
  const int64_t grain = (n + threads - 1) / threads;  // one range per thread
  parallel_for(n, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) { pa[i] = 0.f; pb[i] = 1.f; pc[i] = 2.f; }
  });
  double best = 1e300;
  for (int64_t r = 0; r < repeats; r++) {
    auto t0 = std::chrono::steady_clock::now();
    parallel_for(n, grain, [&](int64_t begin, int64_t end) { simd_dispatch<Triad>(pa, pb, pc, 3.f, begin, end); });
    best = std::min(best, seconds_since(t0));
  }
  if (pa[n - 1] != 7.f) fail("limitsTriad: wrong result (cpu backend)");
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("seconds", best);
  o.Set("bytes", 12.0 * static_cast<double>(n));
  o.Set("threads", threads);
  return o;
}

void InitLimits(Napi::Env env, Napi::Object exports) {
  exports.Set("limitsFmaPeak", Napi::Function::New(env, LimitsFmaPeak, "limitsFmaPeak"));
  exports.Set("limitsTriad", Napi::Function::New(env, LimitsTriad, "limitsTriad"));
}

}  // namespace

TESSERA_REGISTER_FAMILY(limits, InitLimits);

}  // namespace tessera
