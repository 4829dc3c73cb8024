// The CUDA kernels' N-API functions: one table, one row per kernel of the
// Backend interface (src/backend/interface.ts). A row turns the JS arguments
// into what the C ABI (kernels/cuda/capi.h) takes and calls it. The C ABI
// validates every argument; this file only turns handles into pointers,
// checking that each buffer exists, has the dtype its pointer type says and
// holds every element the call may reach (the kernels trust that).
//
// Data-dependent checks (indices of gather/scatterAdd, CSR structure) need
// the GPU's answer and synchronize, so they run once per (buffer, version):
// a buffer's version changes whenever it is written or produced by a kernel.
#include "native/cuda/binding.h"

#include <algorithm>
#include <cstddef>
#include <iterator>

#include "native/cuda/runtime.h"

namespace tessera::cuda_napi {
namespace {

// ---- JS arguments -> pointers, views, records ----

std::string key(char kind, const std::vector<int64_t>& parts) {
  std::string k(1, kind);
  for (int64_t p : parts) k += ":" + std::to_string(p);
  return k;
}

// The indices of `idx` against the extent of `data` (only its shape is read)
// on `axis`, checked on the GPU once per version of the index buffer.
const int32_t* indices(Args& a, const View& idx, const tsr_view& data, int64_t axis) {
  std::vector<int64_t> parts = {idx.buf->id, int64_t(idx.buf->version), idx.v.offset, axis};
  parts.insert(parts.end(), idx.v.shape, idx.v.shape + TSR_MAX_DIMS);
  parts.insert(parts.end(), idx.v.strides, idx.v.strides + TSR_MAX_DIMS);
  parts.insert(parts.end(), data.shape, data.shape + TSR_MAX_DIMS);
  const auto* ptr = static_cast<const int32_t*>(idx.buf->ptr);
  a.session().once(key('i', parts), [&] {
    int64_t value = 0, position = 0;
    const int status = tsr_cuda_check_indices(ptr, &idx.v, &data, axis, &value, &position, a.stream());
    if (status == TSR_INDEX_OUT_OF_RANGE)  // as the cpu backend says it
      a.fail_plain(std::string(a.op()) + ": index " + std::to_string(value) + " out of range [0, " +
                   std::to_string(data.shape[axis]) + ") on axis " + std::to_string(axis) + " (cuda)");
    a.ok(status);
  });
  return ptr;
}

// {rows, cols, nnz, rowPtr, colIdx, values?}, its structure checked on the
// GPU once per version of rowPtr and colIdx.
tsr_csr csr(Args& a, size_t i) {
  const Napi::Object o = a.object(i, "csr");
  tsr_csr c{};
  c.rows = a.integer(o.Get("rows"), "csr.rows");
  c.cols = a.integer(o.Get("cols"), "csr.cols");
  c.nnz = a.integer(o.Get("nnz"), "csr.nnz");
  const Buffer& rp = a.in(o.Get("rowPtr"), "csr.rowPtr", c.rows + 1, TSR_INT32);
  const Buffer& ci = a.in(o.Get("colIdx"), "csr.colIdx", c.nnz, TSR_INT32);
  c.row_ptr = static_cast<const int32_t*>(rp.ptr);
  c.col_idx = static_cast<const int32_t*>(ci.ptr);
  if (a.given(o.Get("values")))
    c.values = static_cast<const float*>(a.in(o.Get("values"), "csr.values", c.nnz, TSR_FLOAT32).ptr);
  a.session().once(key('c', {rp.id, int64_t(rp.version), ci.id, int64_t(ci.version), c.rows, c.cols, c.nnz}),
                   [&] { a.ok(tsr_cuda_csr_validate(&c, a.stream())); });
  return c;
}

int64_t precision(Args& a, size_t i) {
  return a.has(i) ? a.choice(a.at(i, "precision"), "precision", tsr_precision_names) : TSR_PRECISION_FLOAT32;
}

// conv params at i, precision at i + 1.
tsr_conv_params conv(Args& a, size_t i) {
  using P = tsr_conv_params;
  P p = record<P>(a, i,
                  {TSR_FIELD(P, N), TSR_FIELD(P, C), TSR_FIELD(P, D), TSR_FIELD(P, H), TSR_FIELD(P, W), TSR_FIELD(P, O),
                   TSR_FIELD(P, kd), TSR_FIELD(P, kh), TSR_FIELD(P, kw), TSR_FIELD(P, stride), TSR_FIELD(P, padding),
                   TSR_FIELD(P, dilation), TSR_FIELD(P, groups), TSR_FIELD(P, oD), TSR_FIELD(P, oH), TSR_FIELD(P, oW)});
  p.precision = precision(a, i + 1);
  return p;
}
int64_t conv_x(Args& a, const tsr_conv_params& p) { return a.count({p.N, p.C, p.D, p.H, p.W}, "x"); }
int64_t conv_y(Args& a, const tsr_conv_params& p) { return a.count({p.N, p.O, p.oD, p.oH, p.oW}, "out"); }
int64_t conv_w(Args& a, const tsr_conv_params& p) {  // groups 0: the C ABI rejects it
  return a.count({p.O, p.groups ? p.C / p.groups : 0, p.kd, p.kh, p.kw}, "w");
}

tsr_pool_params pool(Args& a, size_t i) {
  using P = tsr_pool_params;
  return record<P>(a, i,
                   {TSR_FIELD(P, N), TSR_FIELD(P, C), TSR_FIELD(P, D), TSR_FIELD(P, H), TSR_FIELD(P, W),
                    TSR_FIELD(P, kd), TSR_FIELD(P, kh), TSR_FIELD(P, kw), TSR_FIELD(P, stride), TSR_FIELD(P, padding),
                    TSR_FIELD(P, oD), TSR_FIELD(P, oH), TSR_FIELD(P, oW)});
}
int64_t pool_x(Args& a, const tsr_pool_params& p) { return a.count({p.N, p.C, p.D, p.H, p.W}, "x"); }
int64_t pool_y(Args& a, const tsr_pool_params& p) { return a.count({p.N, p.C, p.oD, p.oH, p.oW}, "out"); }

tsr_lstm_params lstm(Args& a, size_t i) {
  using P = tsr_lstm_params;
  return record<P>(a, i, {TSR_FIELD(P, T), TSR_FIELD(P, B), TSR_FIELD(P, H), TSR_FIELD(P, reverse)});
}
int64_t lstm_gates(Args& a, const tsr_lstm_params& p) { return a.count({p.T, p.B, 4, p.H}, "gates"); }
int64_t lstm_states(Args& a, const tsr_lstm_params& p) { return a.count({2, p.T, p.B, p.H}, "states"); }
int64_t lstm_cells(Args& a, const tsr_lstm_params& p) { return a.count({p.B, p.H}, "h0"); }
int64_t lstm_weight(Args& a, const tsr_lstm_params& p) { return a.count({4, p.H, p.H}, "weightHh"); }

// The optimizer records: the integer fields through record(), the hyperparameters as numbers.
tsr_adam_params adam(Args& a, size_t i) {
  using P = tsr_adam_params;
  P p = record<P>(a, i, {TSR_FIELD(P, n), TSR_FIELD(P, decoupled)});
  const Napi::Object o = a.object(i, "params");
  p.lr = a.number(o.Get("lr"), "lr");
  p.beta1 = a.number(o.Get("beta1"), "beta1");
  p.beta2 = a.number(o.Get("beta2"), "beta2");
  p.eps = a.number(o.Get("eps"), "eps");
  p.weight_decay = a.number(o.Get("weight_decay"), "weight_decay");
  p.step_size = a.number(o.Get("step_size"), "step_size");
  p.bias_correction2_sqrt = a.number(o.Get("bias_correction2_sqrt"), "bias_correction2_sqrt");
  return p;
}
tsr_sgd_params sgd(Args& a, size_t i) {
  using P = tsr_sgd_params;
  P p = record<P>(a, i, {TSR_FIELD(P, n), TSR_FIELD(P, nesterov), TSR_FIELD(P, first)});
  const Napi::Object o = a.object(i, "params");
  p.lr = a.number(o.Get("lr"), "lr");
  p.weight_decay = a.number(o.Get("weight_decay"), "weight_decay");
  p.momentum = a.number(o.Get("momentum"), "momentum");
  p.dampening = a.number(o.Get("dampening"), "dampening");
  return p;
}

tsr_batchnorm_params batchnorm(Args& a, size_t i) {
  using P = tsr_batchnorm_params;
  P p = record<P>(a, i, {TSR_FIELD(P, outer), TSR_FIELD(P, channels), TSR_FIELD(P, inner)});
  const Napi::Object o = a.object(i, "params");
  p.eps = a.number(o.Get("eps"), "eps");
  p.act = a.choice(o.Get("act"), "activation", tsr_norm_activation_names);
  return p;
}
int64_t batchnorm_x(Args& a, const tsr_batchnorm_params& p) { return a.count({p.outer, p.channels, p.inner}, "x"); }

// matmul(a, b, out, {batch, M, N, K, alpha, act, bias?}, precision): a and b
// are {buf, strides, offset} over [batch, M, K] and [batch, K, N].
Napi::Value matmul(Args& a) {
  using P = tsr_matmul_params;
  P p = record<P>(a, 3, {TSR_FIELD(P, batch), TSR_FIELD(P, M), TSR_FIELD(P, N), TSR_FIELD(P, K)});
  const Napi::Object o = a.object(3, "params");
  const View x = a.strided(a.object(0, "a"), "a", {p.batch, p.M, p.K}, TSR_FLOAT32);
  const View y = a.strided(a.object(1, "b"), "b", {p.batch, p.K, p.N}, TSR_FLOAT32);
  for (int d = 0; d < 3; ++d) p.a_strides[d] = x.v.strides[d], p.b_strides[d] = y.v.strides[d];
  p.a_offset = x.v.offset, p.b_offset = y.v.offset;
  p.alpha = a.number(o.Get("alpha"), "alpha");
  p.act = a.choice(o.Get("act"), "activation", tsr_activation_names);
  if (a.given(o.Get("bias"))) p.bias = static_cast<const float*>(a.in(o.Get("bias"), "bias", p.N, TSR_FLOAT32).ptr);
  p.precision = precision(a, 4);
  float* c = a.f32_out(2, "out", a.count({p.batch, p.M, p.N}, "out"));
  return a.call(tsr_cuda_matmul, static_cast<const float*>(x.buf->ptr), static_cast<const float*>(y.buf->ptr), c, &p);
}

// One row per kernel of the Backend interface, named as its method; the
// JS arguments are those of src/backend/cuda/index.ts.
const Entry kKernels[] = {
    {"fill", [](Args& a) {
       Buffer& o = a.out(0, "out", 0);
       return a.call(tsr_cuda_fill, o.ptr, o.dtype, o.size, a.number(1, "value"));
     }},
    {"copy", [](Args& a) {
       const View x = a.view(0, "x");
       if (!a.has(2)) {
         Buffer& o = a.out(1, "out", x.elements);
         return a.call(tsr_cuda_copy, x.buf->ptr, x.buf->dtype, &x.v, o.ptr, o.dtype, nullptr);
       }
       // into {buf: out, strides, offset}: the region of out that x goes to (checked to lie inside it).
       const View region =
           a.strided(a.object(2, "into"), "into", std::vector<int64_t>(x.v.shape, x.v.shape + x.v.rank));
       Buffer& o = a.out(1, "out", 0);
       if (region.buf != &o) a.fail("into.buf must be out");
       return a.call(tsr_cuda_copy, x.buf->ptr, x.buf->dtype, &x.v, o.ptr, o.dtype, &region.v);
     }},
    {"unary", [](Args& a) {
       const View x = a.view(1, "x");
       Buffer& o = a.out(2, "out", x.elements);
       return a.call(tsr_cuda_unary, a.choice(a.at(0, "op"), "unary op", tsr_unary_op_names), x.buf->ptr, x.buf->dtype, &x.v,
                     o.ptr, o.dtype, a.number(3, "alpha"));
     }},
    {"binary", [](Args& a) {
       const View x = a.view(1, "a"), y = a.view(2, "b");
       Buffer& o = a.out(3, "out", x.elements);
       return a.call(tsr_cuda_binary, a.choice(a.at(0, "op"), "binary op", tsr_binary_op_names), x.buf->ptr, x.buf->dtype, &x.v,
                     y.buf->ptr, y.buf->dtype, &y.v, o.ptr, o.dtype);
     }},
    {"where", [](Args& a) {
       const View c = a.view(0, "cond"), x = a.view(1, "a"), y = a.view(2, "b");
       Buffer& o = a.out(3, "out", c.elements);
       return a.call(tsr_cuda_where, c.buf->ptr, c.buf->dtype, &c.v, x.buf->ptr, x.buf->dtype, &x.v, y.buf->ptr,
                     y.buf->dtype, &y.v, o.ptr, o.dtype);
     }},
    {"reduce", [](Args& a) {
       const int64_t outer = a.integer(2, "outer"), size = a.integer(3, "size"), inner = a.integer(4, "inner");
       const Buffer& x = a.in(1, "x", a.count({outer, size, inner}, "x"));
       Buffer& o = a.out(5, "out", a.count({outer, inner}, "out"));
       return a.call(tsr_cuda_reduce, a.choice(a.at(0, "op"), "reduce op", tsr_reduce_op_names), x.ptr, x.dtype, outer, size,
                     inner, o.ptr, o.dtype);
     }},
    {"matmul", matmul},
    {"gather", [](Args& a) {
       const View x = a.view(0, "x"), idx = a.view(2, "idx", TSR_INT32);
       const int64_t axis = a.integer(1, "axis");
       Buffer& o = a.out(3, "out", idx.elements);
       return a.call(tsr_cuda_gather, x.buf->ptr, x.buf->dtype, &x.v, axis, indices(a, idx, x.v, axis), &idx.v, o.ptr,
                     o.dtype);
     }},
    {"scatterAdd", [](Args& a) {
       const std::vector<int64_t> shape = a.integers(a.at(1, "outShape"), "outShape");
       const int64_t axis = a.integer(2, "axis");
       const View idx = a.view(3, "idx", TSR_INT32), src = a.view(4, "src");
       Buffer& o = a.out(0, "out", a.count(shape, "out"));
       tsr_view ov{};
       ov.rank = int64_t(shape.size());
       std::copy(shape.begin(), shape.end(), ov.shape);
       return a.call(tsr_cuda_scatter_add, o.ptr, o.dtype, shape.data(), ov.rank, axis, indices(a, idx, ov, axis),
                     &idx.v, src.buf->ptr, src.buf->dtype, &src.v);
     }},
    {"spmm", [](Args& a) {
       const tsr_csr m = csr(a, 0);
       const int64_t F = a.integer(2, "F");
       return a.call(tsr_cuda_spmm, &m, a.f32(1, "x", a.count({m.cols, F}, "x")), F,
                     a.f32_out(3, "out", a.count({m.rows, F}, "out")));
     }},
    {"sddmm", [](Args& a) {
       const tsr_csr m = csr(a, 0);
       const int64_t H = a.integer(3, "H"), F = a.integer(4, "F");
       return a.call(tsr_cuda_sddmm, &m, a.f32(1, "x", a.count({m.rows, H, F}, "x")),
                     a.f32(2, "y", a.count({m.cols, H, F}, "y")), H, F,
                     a.f32_out(5, "out", a.count({m.nnz, H}, "out")));
     }},
    {"edgeSoftmax", [](Args& a) {
       const tsr_csr m = csr(a, 0);
       const int64_t H = a.integer(2, "H"), n = a.count({m.nnz, H}, "scores");
       return a.call(tsr_cuda_edge_softmax, &m, a.f32(1, "scores", n), H, a.f32_out(3, "out", n));
     }},
    {"edgeSoftmaxBackward", [](Args& a) {
       const tsr_csr m = csr(a, 0);
       const int64_t H = a.integer(3, "H"), n = a.count({m.nnz, H}, "y");
       return a.call(tsr_cuda_edge_softmax_backward, &m, a.f32(1, "y", n), a.f32(2, "g", n), H, a.f32_out(4, "out", n));
     }},
    {"cmdMoments", [](Args& a) {
       const int64_t n = a.integer(1, "n"), d = a.integer(2, "d"), k = a.integer(3, "k");
       const int64_t moments = a.count({std::max<int64_t>(k - 1, 0), d}, "moments");
       return a.call(tsr_cuda_cmd_moments, a.f32(0, "x", a.count({n, d}, "x")), n, d, k, a.f32_out(4, "mean", d),
                     a.f32_out(5, "moments", moments));
     }},
    {"cmdMomentsBackward", [](Args& a) {
       const int64_t n = a.integer(1, "n"), d = a.integer(2, "d"), k = a.integer(3, "k");
       const int64_t nd = a.count({n, d}, "x"), moments = a.count({std::max<int64_t>(k - 1, 0), d}, "moments");
       return a.call(tsr_cuda_cmd_moments_backward, a.f32(0, "x", nd), n, d, k, a.f32(4, "mean", d),
                     a.f32(5, "moments", moments), a.f32(6, "gMean", d), a.f32(7, "gMoments", moments),
                     a.f32_out(8, "out", nd));
     }},
    {"conv", [](Args& a) {
       const tsr_conv_params p = conv(a, 4);
       const float* bias = a.has(2) ? a.f32(2, "bias", p.O) : nullptr;
       return a.call(tsr_cuda_conv_forward, a.f32(0, "x", conv_x(a, p)), a.f32(1, "w", conv_w(a, p)), bias,
                     a.f32_out(3, "out", conv_y(a, p)), &p);
     }},
    {"convBackwardInput", [](Args& a) {
       const tsr_conv_params p = conv(a, 3);
       return a.call(tsr_cuda_conv_backward_input, a.f32(0, "gy", conv_y(a, p)), a.f32(1, "w", conv_w(a, p)),
                     a.f32_out(2, "gx", conv_x(a, p)), &p);
     }},
    {"convBackwardWeight", [](Args& a) {
       const tsr_conv_params p = conv(a, 3);
       return a.call(tsr_cuda_conv_backward_weight, a.f32(0, "x", conv_x(a, p)), a.f32(1, "gy", conv_y(a, p)),
                     a.f32_out(2, "gw", conv_w(a, p)), &p);
     }},
    {"maxPool", [](Args& a) {
       const tsr_pool_params p = pool(a, 3);
       auto* argmax = static_cast<int32_t*>(a.out(2, "argmax", pool_y(a, p), TSR_INT32).ptr);
       return a.call(tsr_cuda_max_pool, a.f32(0, "x", pool_x(a, p)), a.f32_out(1, "out", pool_y(a, p)), argmax, &p);
     }},
    {"avgPool", [](Args& a) {
       const tsr_pool_params p = pool(a, 2);
       return a.call(tsr_cuda_avg_pool, a.f32(0, "x", pool_x(a, p)), a.f32_out(1, "out", pool_y(a, p)), &p);
     }},
    {"nms", [](Args& a) {
       const int64_t K = a.integer(3, "count");
       const auto* groups = static_cast<const int32_t*>(a.in(2, "groups", K, TSR_INT32).ptr);
       auto* keep = static_cast<int32_t*>(a.out(5, "keep", K + 1, TSR_INT32).ptr);
       return a.call(tsr_cuda_nms, a.f32(0, "boxes", a.count({K, 4}, "boxes")), a.f32(1, "scores", K), groups, K,
                     a.number(4, "iouThreshold"), keep);
     }},
    {"avgPoolBackward", [](Args& a) {
       const tsr_pool_params p = pool(a, 2);
       return a.call(tsr_cuda_avg_pool_backward, a.f32(0, "gy", pool_y(a, p)), a.f32_out(1, "gx", pool_x(a, p)), &p);
     }},
    {"argsort", [](Args& a) {
       const int64_t outer = a.integer(1, "outer"), size = a.integer(2, "size"), inner = a.integer(3, "inner");
       const int64_t n = a.count({outer, size, inner}, "x");
       auto* out = static_cast<int32_t*>(a.out(5, "out", n, TSR_INT32).ptr);
       return a.call(tsr_cuda_argsort, a.f32(0, "x", n), outer, size, inner, a.integer(4, "descending"), out);
     }},
    {"cumulative", [](Args& a) {
       const int64_t outer = a.integer(2, "outer"), size = a.integer(3, "size"), inner = a.integer(4, "inner");
       const int64_t n = a.count({outer, size, inner}, "x");
       const Buffer& x = a.in(1, "x", n);
       Buffer& o = a.out(6, "out", n, x.dtype);
       return a.call(tsr_cuda_cumulative, a.choice(a.at(0, "op"), "scan op", tsr_reduce_op_names), x.ptr, x.dtype, outer,
                     size, inner, a.integer(5, "reverse"), o.ptr);
     }},
    {"lstmForward", [](Args& a) {
       const tsr_lstm_params p = lstm(a, 6);
       return a.call(tsr_cuda_lstm_forward, a.f32(0, "gatesIn", lstm_gates(a, p)), a.f32(1, "weightHh", lstm_weight(a, p)),
                     a.f32(2, "h0", lstm_cells(a, p)), a.f32(3, "c0", lstm_cells(a, p)),
                     a.f32_out(4, "states", lstm_states(a, p)), a.f32_out(5, "gates", lstm_gates(a, p)), &p);
     }},
    {"lstmBackward", [](Args& a) {
       const tsr_lstm_params p = lstm(a, 8);
       return a.call(tsr_cuda_lstm_backward, a.f32(0, "weightHh", lstm_weight(a, p)), a.f32(1, "c0", lstm_cells(a, p)),
                     a.f32(2, "gates", lstm_gates(a, p)), a.f32(3, "states", lstm_states(a, p)),
                     a.f32(4, "gradStates", lstm_states(a, p)), a.f32_out(5, "gradGates", lstm_gates(a, p)),
                     a.f32_out(6, "gradH0", lstm_cells(a, p)), a.f32_out(7, "gradC0", lstm_cells(a, p)), &p);
     }},
    {"adamUpdate", [](Args& a) {
       const tsr_adam_params p = adam(a, 4);
       return a.call(tsr_cuda_adam_update, a.f32_out(0, "param", p.n), a.f32(1, "grad", p.n), a.f32_out(2, "expAvg", p.n),
                     a.f32_out(3, "expAvgSq", p.n), &p);
     }},
    {"sgdUpdate", [](Args& a) {
       const tsr_sgd_params p = sgd(a, 3);
       return a.call(tsr_cuda_sgd_update, a.f32_out(0, "param", p.n), a.f32(1, "grad", p.n),
                     a.f32_out(2, "momentumBuffer", p.n), &p);
     }},
    {"batchNormForward", [](Args& a) {
       const tsr_batchnorm_params p = batchnorm(a, 6);
       const int64_t size = batchnorm_x(a, p);
       const float* addend = a.has(3) ? a.f32(3, "addend", size) : nullptr;
       return a.call(tsr_cuda_batchnorm_forward, a.f32(0, "x", size), a.f32(1, "weight", p.channels),
                     a.f32(2, "bias", p.channels), addend, a.f32_out(4, "out", size), a.f32_out(5, "stats", 2 * p.channels), &p);
     }},
    {"batchNormBackward", [](Args& a) {
       const tsr_batchnorm_params p = batchnorm(a, 9);
       const int64_t size = batchnorm_x(a, p);
       const float* addend = a.has(4) ? a.f32(4, "addend", size) : nullptr;
       float* gz = a.has(8) ? a.f32_out(8, "gz", size) : nullptr;
       return a.call(tsr_cuda_batchnorm_backward, a.f32(0, "gOut", size), a.f32(1, "x", size), a.f32(2, "weight", p.channels),
                     a.f32(3, "bias", p.channels), addend, a.f32(5, "stats", 2 * p.channels), a.f32_out(6, "gx", size),
                     a.f32_out(7, "sums", 2 * p.channels), gz, &p);
     }},
};

}  // namespace
}  // namespace tessera::cuda_napi

void RegisterCuda(Napi::Env env, Napi::Object exports) {
  using namespace tessera::cuda_napi;
  Session& session = StartSession(env, exports);
  Export(env, exports, session, kKernels, std::size(kKernels));
  ExportNccl(env, exports, session);
}
