// What each kernel family offers its host launcher (native/cuda/launch_*.cc):
// enqueue functions that pick grids and launch. They trust their arguments
// (the launchers validate them) and return the first CUDA error.
#pragma once

#include <cuda_runtime.h>
#include <cstddef>
#include <cstdint>

#include "native/cuda/capi.h"

namespace tessera::cuda {

// ---- services of native/cuda/runtime.cc ----

// Device scratch memory from the caching allocator, returned to the cache
// (for later work on the same stream) when it goes out of scope.
class Scratch {
 public:
  Scratch(size_t bytes, cudaStream_t stream);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  void* get() const { return ptr_; }
  // cudaSuccess, or cudaErrorMemoryAllocation with tsr_cuda_last_error() set.
  cudaError_t status() const { return status_; }

 private:
  void* ptr_ = nullptr;
  cudaStream_t stream_;
  cudaError_t status_ = cudaSuccess;
};

// Multiprocessors of the current device (cached per device).
int multiprocessor_count();
// Synchronous copy of a few bytes back through pinned memory.
cudaError_t read_back(void* host, const void* device, size_t bytes, cudaStream_t stream);

// ---- elementwise.cu ----
cudaError_t fill(void* out, int dtype, int64_t n, double value, cudaStream_t s);
cudaError_t unary(int op, const void* x, int x_dtype, const tsr_view& xv, void* out, int out_dtype,
                  float alpha, cudaStream_t s);
cudaError_t binary(int op, const void* a, int a_dtype, const tsr_view& av, const void* b, int b_dtype,
                   const tsr_view& bv, void* out, int out_dtype, cudaStream_t s);

// ---- index.cu ----
cudaError_t copy(const void* x, int x_dtype, const tsr_view& xv, void* out, int out_dtype, cudaStream_t s);
cudaError_t where(const void* cond, int cond_dtype, const tsr_view& cv, const void* a, const tsr_view& av,
                  const void* b, const tsr_view& bv, void* out, cudaStream_t s);
// Synchronous. *found is false when every index is in [0, bound).
cudaError_t check_indices(const int32_t* idx, const tsr_view& iv, int64_t bound, bool* found,
                          int64_t* bad_value, int64_t* bad_position, cudaStream_t s);
cudaError_t gather(const void* x, const tsr_view& xv, int axis, const int32_t* idx, const tsr_view& iv,
                   void* out, cudaStream_t s);
cudaError_t scatter_add(void* out, int dtype, const int64_t* out_shape, int rank, int axis, const int32_t* idx,
                        const tsr_view& iv, const void* src, const tsr_view& sv, cudaStream_t s);

// ---- reduce.cu ----
cudaError_t reduce(int op, const void* x, int x_dtype, int64_t outer, int64_t size, int64_t inner, void* out,
                   int out_dtype, cudaStream_t s);

// ---- gemm.cu ----
cudaError_t matmul(const float* a, const float* b, float* out, const tsr_matmul_params& p, cudaStream_t s);

// ---- conv.cu ----
cudaError_t conv_forward(const float* x, const float* w, const float* bias, float* out,
                         const tsr_conv_params& p, cudaStream_t s);
cudaError_t conv_backward_input(const float* gy, const float* w, float* gx, const tsr_conv_params& p,
                                cudaStream_t s);
cudaError_t conv_backward_weight(const float* x, const float* gy, float* gw, const tsr_conv_params& p,
                                 cudaStream_t s);

// ---- spmm.cu ----
// Synchronous. *problem: 0 valid, 1 row_ptr[0] != 0, 2 row_ptr decreases at
// row *where, 3 row_ptr[rows] != nnz, 4 column index out of range at *where
// (its value in *value).
cudaError_t csr_validate(const tsr_csr& a, int* problem, int64_t* where, int64_t* value, cudaStream_t s);
cudaError_t spmm(const tsr_csr& a, const float* x, int64_t F, float* out, cudaStream_t s);
cudaError_t sddmm(const tsr_csr& a, const float* x, const float* y, int64_t H, int64_t F, float* out,
                  cudaStream_t s);
cudaError_t edge_softmax(const tsr_csr& a, const float* scores, int64_t H, float* out, cudaStream_t s);
cudaError_t edge_softmax_backward(const tsr_csr& a, const float* y, const float* g, int64_t H, float* out,
                                  cudaStream_t s);

// ---- cmd.cu ----
cudaError_t cmd_moments(const float* x, int64_t n, int64_t d, int k, float* mean, float* moments,
                        cudaStream_t s);
cudaError_t cmd_moments_backward(const float* x, int64_t n, int64_t d, int k, const float* mean,
                                 const float* moments, const float* g_mean, const float* g_moments, float* out,
                                 cudaStream_t s);

// ---- pool.cu ----
cudaError_t max_pool(const float* x, float* out, int32_t* argmax, const tsr_pool_params& p, cudaStream_t s);
cudaError_t avg_pool(const float* x, float* out, const tsr_pool_params& p, cudaStream_t s);
cudaError_t avg_pool_backward(const float* gy, float* gx, const tsr_pool_params& p, cudaStream_t s);

}  // namespace tessera::cuda
