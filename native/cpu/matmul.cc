// matmul binding: batched strided views over sgemm with the fused epilogue.
#include <string>

#include "families.h"
#include "gemm.h"
#include "strided.h"
#include "threadpool.h"

namespace tessera {
namespace {

const char* const kActivationNames[] = {"none", "relu", "gelu", "tanh", "sigmoid"};  // GemmEpilogue::act codes

// matmul(a, aStrides[3], aOffset, b, bStrides[3], bOffset, out, batch, M, N, K, alpha, bias | undefined, act)
// a is [batch, M, K] and b [batch, K, N] with any strides (batch strides may be 0); out is dense [batch, M, N].
void Matmul(const Napi::CallbackInfo& info) {
  const char* k = "matmul";
  Span<float> a = f32_arg(info, 0, k, "a");
  auto sa = int_list_arg(info, 1, k, "a strides");
  int64_t oa = int_arg(info, 2, k, "a offset");
  Span<float> b = f32_arg(info, 3, k, "b");
  auto sb = int_list_arg(info, 4, k, "b strides");
  int64_t ob = int_arg(info, 5, k, "b offset");
  Span<float> out = f32_arg(info, 6, k, "out");
  int64_t batch = size_arg(info, 7, k, "batch"), M = size_arg(info, 8, k, "M"), N = size_arg(info, 9, k, "N"),
          K = size_arg(info, 10, k, "K");
  double alpha = number_arg(info, 11, k, "alpha");
  Span<float> bias = optional_f32_arg(info, 12, k, "bias");
  int64_t act = int_arg(info, 13, k, "act");
  if (act < 0 || act >= static_cast<int64_t>(std::size(kActivationNames))) fail("matmul: unknown activation code " + std::to_string(act) + " (cpu backend)");
  if (sa.size() != 3 || sb.size() != 3) fail("matmul: a and b need 3 strides ([batch, rows, cols]) (cpu backend)");
  check_view(k, "a", a.size, {batch, M, K}, sa, oa);
  check_view(k, "b", b.size, {batch, K, N}, sb, ob);
  require_length(k, "out", out.size, checked_product({batch, M, N}, k));
  if (bias.data) require_length(k, "bias", bias.size, N);

  GemmEpilogue ep;
  ep.alpha = static_cast<float>(alpha);
  ep.bias = bias.data;
  ep.act = static_cast<int>(act);
  auto one = [&](int64_t i) {
    sgemm(M, N, K, a.data + oa + i * sa[0], sa[1], sa[2], b.data + ob + i * sb[0], sb[1], sb[2], out.data + i * M * N,
          N, ep);
  };
  // Enough matrices to go round: one per thread (each sgemm then runs single-threaded inside);
  // otherwise one after the other, each threaded over its tiles.
  if (batch >= num_threads()) {
    parallel_for(batch, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; i++) one(i);
    });
  } else {
    for (int64_t i = 0; i < batch; i++) one(i);
  }
}

void InitMatmul(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("activations", string_array(env, kActivationNames, static_cast<int>(std::size(kActivationNames))));
}

}  // namespace

TESSERA_REGISTER_FAMILY(matmul, InitMatmul);

}  // namespace tessera
