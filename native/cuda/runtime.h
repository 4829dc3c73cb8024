// The N-API side of the CUDA backend under the kernel table of binding.cc:
// per Node environment a Session (one CUDA stream that all its work goes to,
// in call order; the table of device buffers that JavaScript holds integer
// handles to; the data-dependent checks that passed), reading JS arguments
// with errors that name the op, and exporting a table of entries. The
// storage entries (alloc, write, read, sync, ...) live in runtime.cc.
#pragma once

#include <napi.h>

#include <cstdint>
#include <algorithm>
#include <cstddef>
#include <deque>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "kernels/cuda/capi.h"

namespace tessera::cuda_napi {

struct Buffer {
  uint32_t id;
  void* ptr;
  int64_t size;      // elements
  int dtype;         // tsr_dtype
  uint64_t version;  // changes whenever the contents may change
};

class Args;

// A strided view of a buffer; every element it reaches lies inside it.
struct View {
  Buffer* buf;
  tsr_view v;
  int64_t elements;
};

// One exported function, `cuda` + op with its first letter capitalized
// ("conv" -> cudaConv). Errors read "cuda <op>: ...".
struct Entry {
  const char* op;
  Napi::Value (*run)(Args&);
  bool before_init = false;  // callable before cudaInit
};

struct Session {
  bool ready = false;
  int device = -1;
  void* stream = nullptr;
  uint32_t next_id = 1;  // never reused, so a stale handle is always caught
  std::unordered_map<uint32_t, Buffer> buffers;
  std::unordered_set<std::string> passed;  // data-dependent checks that passed, keyed by buffer versions
  std::deque<std::string> recent;          // the last ops enqueued, named in asynchronous errors
  std::deque<std::pair<Session*, const Entry*>> exported;  // what each exported function runs

  // Runs a data-dependent check (it synchronizes) unless one with the same
  // key, which names the buffers' versions, passed before.
  template <class Check>
  void once(const std::string& key, Check check) {
    if (passed.count(key)) return;
    check();
    if (passed.size() > 4096) passed.clear();
    passed.insert(key);
  }
};

// Element counts and offsets stay below 2^53 (exact in a JS number); sizes
// are checked against it so that no product of them overflows int64.
constexpr int64_t kMaxSafe = int64_t(1) << 53;

// The arguments of one call, read with checks that throw errors naming the op.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, Session& session, const char* op) : info_(info), session_(session), op_(op) {}
  Napi::Env env() const { return info_.Env(); }
  Session& session() const { return session_; }
  void* stream() const { return session_.stream; }
  const char* op() const { return op_; }

  [[noreturn]] void fail(const std::string& why) const;
  // Throws `message` as it is (it names the op itself).
  [[noreturn]] void fail_plain(const std::string& message) const;
  static bool given(const Napi::Value& v) { return !v.IsUndefined() && !v.IsNull(); }
  bool has(size_t i) const { return i < info_.Length() && given(info_[i]); }
  Napi::Value at(size_t i, const char* name) const;
  // An integer in [min, 2^53).
  int64_t integer(const Napi::Value& v, const std::string& name, int64_t min = 0) const;
  int64_t integer(size_t i, const char* name) const { return integer(at(i, name), name); }
  double number(const Napi::Value& v, const std::string& name) const;
  double number(size_t i, const char* name) const { return number(at(i, name), name); }
  Napi::Object object(size_t i, const char* name) const;
  // Integers of a JS array of at most 8: a shape, strides (negative allowed) or a triple.
  std::vector<int64_t> integers(const Napi::Value& v, const std::string& name, int64_t min = 0) const;
  // The index of a string among `names` (an enum of capi.h).
  template <size_t N>
  int choice(const Napi::Value& v, const char* name, const char* const (&names)[N]) const {
    const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
    for (size_t k = 0; k < N; ++k)
      if (s == names[k]) return int(k);
    fail(std::string("unknown ") + name + " '" + s + "'");
  }
  // Product of non-negative extents, failing when it reaches 2^53.
  int64_t count(const std::vector<int64_t>& extents, const std::string& name) const;
  // The live buffer behind a handle, of `dtype` when that is >= 0.
  Buffer& buffer(const Napi::Value& v, const std::string& name, int dtype = -1) const;

  // Handles -> what the C ABI takes. The kernels trust that a pointer's
  // buffer holds every element the call reaches, so these check it.
  // A buffer of at least `need` elements.
  Buffer& in(const Napi::Value& v, const std::string& name, int64_t need, int dtype = -1) const;
  Buffer& in(size_t i, const char* name, int64_t need, int dtype = -1) const {
    return in(at(i, name), name, need, dtype);
  }
  // Argument i as an output buffer: its version changes.
  Buffer& out(size_t i, const char* name, int64_t need, int dtype = -1) const;
  const float* f32(size_t i, const char* name, int64_t need) const {
    return static_cast<const float*>(in(i, name, need, TSR_FLOAT32).ptr);
  }
  float* f32_out(size_t i, const char* name, int64_t need) const {
    return static_cast<float*>(out(i, name, need, TSR_FLOAT32).ptr);
  }
  // The view {buf, strides, offset} of a JS object, with `shape`.
  View strided(const Napi::Object& o, const std::string& name, const std::vector<int64_t>& shape, int dtype = -1) const;
  // Argument i as a view {buf, shape, strides, offset}.
  View view(size_t i, const char* name, int dtype = -1) const;

  // Throws the C ABI's message (it names the op) unless status is TSR_OK.
  void ok(int status) const;
  // After a kernel's C ABI call: ok(status), then remembers the op for
  // errors that surface later on the stream.
  Napi::Value enqueued(int status) const;
  // Calls a kernel's C ABI function with these arguments and the stream.
  template <class F, class... A>
  Napi::Value call(F f, A... args) const {
    return enqueued(f(args..., stream()));
  }

 private:
  const Napi::CallbackInfo& info_;
  Session& session_;
  const char* op_;
};

// A parameter record of capi.h (every field 8 bytes) from a JS object with
// the same field names: non-negative integers, arrays of them for arrays.
struct Field {
  const char* name;
  size_t offset, count;
};
#define TSR_FIELD(record, f) Field{#f, offsetof(record, f), sizeof(record::f) / sizeof(int64_t)}

template <class Record>
Record record(const Args& a, size_t i, std::initializer_list<Field> fields) {
  const Napi::Object o = a.object(i, "params");
  Record r{};
  for (const Field& f : fields) {
    const Napi::Value v = o.Get(f.name);
    const std::vector<int64_t> got = f.count == 1 ? std::vector<int64_t>{a.integer(v, f.name)} : a.integers(v, f.name);
    if (got.size() != f.count) a.fail(std::string(f.name) + " must have " + std::to_string(f.count) + " entries");
    std::copy(got.begin(), got.end(), reinterpret_cast<int64_t*>(reinterpret_cast<char*>(&r) + f.offset));
  }
  return r;
}

// Creates the environment's session (released with the environment) and
// exports the storage entries: cudaDeviceCount, cudaInit, cudaAlloc,
// cudaFree, cudaWrite, cudaRead, cudaReadSync, cudaSync, cudaMemory,
// cudaEmptyCache.
Session& StartSession(Napi::Env env, Napi::Object exports);
// Exports every entry of a table; its functions run with `session`.
void Export(Napi::Env env, Napi::Object exports, Session& session, const Entry* entries, size_t count);
// Exports the NCCL collectives (native/cuda/nccl.cc): cudaNcclInit, cudaNcclAllReduce, cudaNcclBroadcast.
void ExportNccl(Napi::Env env, Napi::Object exports, Session& session);

}  // namespace tessera::cuda_napi
