// The C ABI's devices, streams, events, copies and caching allocators (device
// memory through cudaMalloc only, never managed memory; pinned host staging
// through cudaHostAlloc), plus the error plumbing and argument checks that
// every kernel family shares (runtime.h). Host-only C++.
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "kernels/cuda/runtime.h"

namespace tessera::cuda {
namespace {

thread_local std::string last_error;
// Set by the allocator when it gives up, consumed by check().
thread_local std::string pending_oom;

std::string bytes_string(size_t b) {
  char buf[64];
  if (b >= (size_t(1) << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", double(b) / double(size_t(1) << 30));
  else if (b >= (size_t(1) << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", double(b) / double(size_t(1) << 20));
  else std::snprintf(buf, sizeof buf, "%zu bytes", b);
  return buf;
}

// Blocks are rounded (512 bytes up to 1 MiB, then 2 MiB) and cached per
// stream after free: a later request on the same stream reuses the smallest
// cached block that fits and wastes at most half of it. Reuse on the same
// stream is safe without synchronization because the stream orders the
// last use of the old contents before the first use of the new ones.
class CachingAllocator {
 public:
  using RawAlloc = cudaError_t (*)(void**, size_t);
  using RawFree = cudaError_t (*)(void*);
  CachingAllocator(const char* what, RawAlloc raw_alloc, RawFree raw_free)
      : what_(what), raw_alloc_(raw_alloc), raw_free_(raw_free) {}

  cudaError_t allocate(size_t bytes, cudaStream_t stream, void** out) {
    const size_t size = round(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cached_.lower_bound({stream, size});
    if (it != cached_.end() && it->first.first == stream && it->first.second <= 2 * size) {
      *out = it->second;
      live_[it->second] = {it->first.second, stream};
      cached_bytes_ -= it->first.second;
      in_use_ += it->first.second;
      cached_.erase(it);
      return cudaSuccess;
    }
    cudaError_t err = raw_alloc_(out, size);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      release_cached();
      err = raw_alloc_(out, size);
    }
    if (err != cudaSuccess) {
      cudaGetLastError();
      *out = nullptr;
      if (err == cudaErrorMemoryAllocation) pending_oom = oom_message(bytes);
      return err;
    }
    live_[*out] = {size, stream};
    in_use_ += size;
    return cudaSuccess;
  }

  // Returns false for a pointer this allocator did not hand out.
  bool release(void* p, cudaStream_t stream) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) return false;
    in_use_ -= it->second.size;
    cached_bytes_ += it->second.size;
    cached_.insert({{stream, it->second.size}, p});
    live_.erase(it);
    return true;
  }

  cudaError_t empty() {
    std::lock_guard<std::mutex> lock(mu_);
    return release_cached();
  }

  void stats(size_t* in_use, size_t* cached) {
    std::lock_guard<std::mutex> lock(mu_);
    *in_use = in_use_;
    *cached = cached_bytes_;
  }

 private:
  struct Live {
    size_t size;
    cudaStream_t stream;
  };
  static size_t round(size_t b) {
    const size_t small = 512, large = size_t(2) << 20;
    if (b == 0) b = 1;
    return b <= (size_t(1) << 20) ? (b + small - 1) / small * small : (b + large - 1) / large * large;
  }
  cudaError_t release_cached() {
    cudaError_t first = cudaSuccess;
    for (auto& [key, p] : cached_) {
      const cudaError_t err = raw_free_(p);
      if (err != cudaSuccess && first == cudaSuccess) first = err;
    }
    cached_.clear();
    cached_bytes_ = 0;
    return first;
  }
  std::string oom_message(size_t bytes) {
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    cudaGetLastError();
    return std::string("out of ") + what_ + " memory: asked for " + bytes_string(bytes) + " (" +
           std::to_string(bytes) + " bytes); the device has " + bytes_string(free_b) + " free of " +
           bytes_string(total_b) + ", this process holds " + bytes_string(in_use_) + " in live buffers";
  }

  const char* what_;
  RawAlloc raw_alloc_;
  RawFree raw_free_;
  std::mutex mu_;
  std::multimap<std::pair<cudaStream_t, size_t>, void*> cached_;
  std::unordered_map<void*, Live> live_;
  size_t in_use_ = 0, cached_bytes_ = 0;
};

cudaError_t device_malloc(void** p, size_t b) { return cudaMalloc(p, b); }
cudaError_t host_malloc(void** p, size_t b) { return cudaHostAlloc(p, b, cudaHostAllocDefault); }

CachingAllocator& device_memory() {
  static auto* a = new CachingAllocator("device", device_malloc, cudaFree);  // outlives static destructors
  return *a;
}
CachingAllocator& pinned_memory() {
  static auto* a = new CachingAllocator("pinned host", host_malloc, cudaFreeHost);
  return *a;
}

}  // namespace

int fail(int status, const std::string& message) {
  last_error = message;
  return status;
}

int check(const char* op, const std::string& detail, cudaError_t err) {
  if (err == cudaSuccess) return TSR_OK;
  cudaGetLastError();
  std::string where = std::string("cuda ") + op + (detail.empty() ? "" : " (" + detail + ")");
  if (err == cudaErrorMemoryAllocation && !pending_oom.empty()) {
    const std::string msg = where + ": " + pending_oom;
    pending_oom.clear();
    return fail(TSR_OUT_OF_MEMORY, msg);
  }
  return fail(err == cudaErrorMemoryAllocation ? TSR_OUT_OF_MEMORY : TSR_CUDA_ERROR,
              where + ": " + cudaGetErrorString(err) + " (" + cudaGetErrorName(err) + ")");
}

std::string shape_string(const int64_t* shape, int64_t rank) {
  std::string s = "[";
  for (int64_t d = 0; d < rank; ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + "]";
}

std::string view_string(const tsr_view& v) {
  return shape_string(v.shape, v.rank) + " strides " + shape_string(v.strides, v.rank) + " offset " +
         std::to_string(v.offset);
}

std::string view_problem(const tsr_view* v) {
  if (!v) return "view is null";
  if (v->rank < 0 || v->rank > TSR_MAX_DIMS) return "rank " + std::to_string(v->rank) + " outside [0, 8]";
  for (int64_t d = 0; d < v->rank; ++d)
    if (v->shape[d] < 0) return "negative extent in shape " + shape_string(v->shape, v->rank);
  return "";
}

bool same_shape(const tsr_view& a, const tsr_view& b) {
  if (a.rank != b.rank) return false;
  for (int64_t d = 0; d < a.rank; ++d)
    if (a.shape[d] != b.shape[d]) return false;
  return true;
}

int64_t view_elements(const tsr_view& v) {
  int64_t n = 1;
  for (int64_t d = 0; d < v.rank; ++d) n *= v.shape[d];
  return n;
}

Scratch::Scratch(size_t bytes, cudaStream_t stream) : stream_(stream) {
  if (bytes > 0) status_ = device_memory().allocate(bytes, stream, &ptr_);
}

Scratch::~Scratch() {
  if (ptr_) device_memory().release(ptr_, stream_);
}

int multiprocessor_count() {
  static int counts[64] = {};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= 64) return 1;
  if (counts[device] == 0) {
    int n = 0;
    cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device);
    counts[device] = n > 0 ? n : 1;
  }
  return counts[device];
}

cudaError_t read_back(void* host, const void* device, size_t bytes, cudaStream_t stream) {
  cudaError_t err = cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream);
  if (err == cudaSuccess) err = cudaStreamSynchronize(stream);
  return err;
}

}  // namespace tessera::cuda

using namespace tessera::cuda;

extern "C" {

const char* tsr_cuda_last_error(void) { return last_error.c_str(); }

int tsr_cuda_device_count(int* count) {
  if (!count) return fail(TSR_INVALID_ARGUMENT, "cuda device_count: count is null");
  *count = 0;
  const cudaError_t err = cudaGetDeviceCount(count);
  if (err != cudaSuccess) {
    // No driver, no GPU, or a driver older than the runtime: no usable GPU,
    // which is an answer, not a failure. The reason stays readable.
    cudaGetLastError();
    *count = 0;
    last_error = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(err) + " (" + cudaGetErrorName(err) + ")";
  }
  return TSR_OK;
}

int tsr_cuda_device_info(int device, char* name, size_t name_len, int* cc_major, int* cc_minor, size_t* total_memory,
                         int* multiprocessors) {
  cudaDeviceProp prop{};
  if (int st = check("device_info", "device " + std::to_string(device), cudaGetDeviceProperties(&prop, device)))
    return st;
  if (name && name_len > 0) std::snprintf(name, name_len, "%s", prop.name);
  if (cc_major) *cc_major = prop.major;
  if (cc_minor) *cc_minor = prop.minor;
  if (total_memory) *total_memory = prop.totalGlobalMem;
  if (multiprocessors) *multiprocessors = prop.multiProcessorCount;
  return TSR_OK;
}

int tsr_cuda_set_device(int device) {
  return check("set_device", "device " + std::to_string(device), cudaSetDevice(device));
}

int tsr_cuda_stream_create(void** stream) {
  if (!stream) return invalid("stream_create", "stream is null");
  cudaStream_t s = nullptr;
  const int st = check("stream_create", "", cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  *stream = s;
  return st;
}

int tsr_cuda_stream_destroy(void* stream) { return check("stream_destroy", "", cudaStreamDestroy(as_stream(stream))); }

int tsr_cuda_stream_synchronize(void* stream) {
  return check("synchronize", "an earlier kernel or copy on the stream failed",
               cudaStreamSynchronize(as_stream(stream)));
}

int tsr_cuda_alloc(size_t bytes, void* stream, void** ptr) {
  if (!ptr) return invalid("alloc", "ptr is null");
  return check("alloc", "", device_memory().allocate(bytes, as_stream(stream), ptr));
}

int tsr_cuda_free(void* ptr, void* stream) {
  if (!ptr) return TSR_OK;
  if (!device_memory().release(ptr, as_stream(stream)))
    return invalid("free", "pointer was not allocated by tsr_cuda_alloc or was freed twice");
  return TSR_OK;
}

int tsr_cuda_empty_cache(void) {
  if (int st = check("empty_cache", "device", device_memory().empty())) return st;
  return check("empty_cache", "pinned host", pinned_memory().empty());
}

int tsr_cuda_memory_stats(size_t* in_use, size_t* cached, size_t* device_free, size_t* device_total) {
  size_t u = 0, c = 0, f = 0, t = 0;
  device_memory().stats(&u, &c);
  if (int st = check("memory_stats", "", cudaMemGetInfo(&f, &t))) return st;
  if (in_use) *in_use = u;
  if (cached) *cached = c;
  if (device_free) *device_free = f;
  if (device_total) *device_total = t;
  return TSR_OK;
}

int tsr_cuda_host_alloc(size_t bytes, void** ptr) {
  if (!ptr) return invalid("host_alloc", "ptr is null");
  return check("host_alloc", "", pinned_memory().allocate(bytes, nullptr, ptr));
}

int tsr_cuda_host_free(void* ptr) {
  if (!ptr) return TSR_OK;
  if (!pinned_memory().release(ptr, nullptr)) return invalid("host_free", "pointer was not from tsr_cuda_host_alloc");
  return TSR_OK;
}

int tsr_cuda_copy_h2d(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return TSR_OK;
  if (!dst || !src) return invalid("write", "null pointer");
  return check("write", std::to_string(bytes) + " bytes host to device",
               cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, as_stream(stream)));
}

int tsr_cuda_copy_d2h_async(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return TSR_OK;
  if (!dst || !src) return invalid("read", "null pointer");
  return check("read", std::to_string(bytes) + " bytes device to host",
               cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, as_stream(stream)));
}

int tsr_cuda_copy_d2h(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return TSR_OK;
  if (!dst || !src) return invalid("read", "null pointer");
  return check("read", std::to_string(bytes) + " bytes device to host (an earlier kernel may have failed)",
               read_back(dst, src, bytes, as_stream(stream)));
}

int tsr_cuda_event_record(void* stream, void** event) {
  if (!event) return invalid("event_record", "event is null");
  cudaEvent_t e = nullptr;
  if (int st = check("event_record", "", cudaEventCreateWithFlags(&e, cudaEventDisableTiming))) return st;
  if (int st = check("event_record", "", cudaEventRecord(e, as_stream(stream)))) {
    cudaEventDestroy(e);
    return st;
  }
  *event = e;
  return TSR_OK;
}

int tsr_cuda_event_synchronize(void* event) {
  return check("synchronize", "an earlier kernel or copy on the stream failed",
               cudaEventSynchronize(static_cast<cudaEvent_t>(event)));
}

int tsr_cuda_event_destroy(void* event) {
  return check("event_destroy", "", cudaEventDestroy(static_cast<cudaEvent_t>(event)));
}

}  // extern "C"
