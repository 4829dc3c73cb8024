#include "simd.h"

#include <atomic>

namespace tessera {

Isa best_isa() {
  static const Isa best = [] {
#ifdef TESSERA_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("fma")) {
      return Isa::avx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
#endif
    return Isa::scalar;
  }();
  return best;
}

namespace {
std::atomic<int> g_active{-1};  // -1: not lowered, use best_isa()
}

Isa active_isa() {
  int a = g_active.load(std::memory_order_relaxed);
  return a < 0 ? best_isa() : static_cast<Isa>(a);
}

Isa set_active_isa(Isa wanted) {
  Isa effective = static_cast<int>(wanted) > static_cast<int>(best_isa()) ? best_isa() : wanted;
  g_active.store(static_cast<int>(effective));
  return effective;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    case Isa::scalar: break;
  }
  return "scalar";
}

}  // namespace tessera
