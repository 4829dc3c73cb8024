// What every kernel family (kernels/cuda/<family>.cu) uses besides its own
// kernels: the per-thread error message of the C ABI, CUDA errors turned
// into messages that name the op, argument checks shared by families, and
// the services of runtime.cc (scratch memory from the caching allocator,
// device properties, small synchronous read-backs).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "kernels/cuda/capi.h"

namespace tessera::cuda {

// ---- errors ----

// Sets tsr_cuda_last_error() for this thread and returns `status`.
int fail(int status, const std::string& message);

// TSR_OK for cudaSuccess; otherwise a message "cuda <op> (<detail>): <CUDA
// error>" (an out-of-memory from the allocator keeps its own account of the
// bytes asked and free). Clears the CUDA error so later calls do not see it.
int check(const char* op, const std::string& detail, cudaError_t err);

inline int invalid(const char* op, const std::string& why) {
  return fail(TSR_INVALID_ARGUMENT, std::string("cuda ") + op + ": " + why);
}

// Runs an entry point's body, turning a C++ exception into an error status
// so nothing unwinds through the C ABI.
template <class F>
int guarded(const char* op, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return fail(TSR_CUDA_ERROR, std::string("cuda ") + op + ": " + e.what());
  }
}

// ---- argument checks ----

std::string shape_string(const int64_t* shape, int64_t rank);
std::string view_string(const tsr_view& v);

// Rank in [0, 8] and no negative extent. Empty string when valid.
std::string view_problem(const tsr_view* v);
// The two views have the same rank and extents.
bool same_shape(const tsr_view& a, const tsr_view& b);
// Elements of a view (product of its shape).
int64_t view_elements(const tsr_view& v);

inline bool valid_dtype(int64_t d) { return d == TSR_FLOAT32 || d == TSR_INT32; }
inline const char* dtype_name(int64_t d) { return d == TSR_INT32 ? "int32" : d == TSR_FLOAT32 ? "float32" : "unknown"; }

inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

// ---- services of runtime.cc ----

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

}  // namespace tessera::cuda
