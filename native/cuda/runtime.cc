// The session of a Node environment, JS argument reading, and the storage
// entries. Kernels and copies are asynchronous on the session's stream;
// read() and sync() return promises resolved from a worker thread that waits
// on an event recorded after the work; readSync() waits on the stream itself.
#include "native/cuda/runtime.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>

namespace tessera::cuda_napi {
namespace {

const char* dtype_name(int dtype) { return tsr_dtype_names[dtype]; }

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + "]";
}

}  // namespace

void Args::fail(const std::string& why) const { fail_plain(std::string("cuda ") + op_ + ": " + why); }

void Args::fail_plain(const std::string& message) const { throw Napi::Error::New(env(), message); }

Napi::Value Args::at(size_t i, const char* name) const {
  if (!has(i)) fail(std::string("missing argument '") + name + "'");
  return info_[i];
}

int64_t Args::integer(const Napi::Value& v, const std::string& name, int64_t min) const {
  if (!v.IsNumber()) fail("'" + name + "' must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == std::floor(d)) || d < double(min) || d >= double(kMaxSafe))
    fail("'" + name + "' must be an integer >= " + std::to_string(min) + ", got " + std::to_string(d));
  return int64_t(d);
}

double Args::number(const Napi::Value& v, const std::string& name) const {
  if (!v.IsNumber()) fail("'" + name + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

Napi::Object Args::object(size_t i, const char* name) const {
  const Napi::Value v = at(i, name);
  if (!v.IsObject()) fail(std::string("'") + name + "' must be an object");
  return v.As<Napi::Object>();
}

std::vector<int64_t> Args::integers(const Napi::Value& v, const std::string& name, int64_t min) const {
  if (!v.IsArray()) fail("'" + name + "' must be an array");
  const Napi::Array arr = v.As<Napi::Array>();
  if (arr.Length() > TSR_MAX_DIMS) fail("'" + name + "' has more than 8 entries");
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) out[k] = integer(arr.Get(k), name, min);
  return out;
}

int64_t Args::count(const std::vector<int64_t>& extents, const std::string& name) const {
  int64_t n = 1;
  for (int64_t e : extents) {
    if (e != 0 && n > (kMaxSafe - 1) / e) fail(name + " " + shape_text(extents) + " has 2^53 or more elements");
    n *= e;
  }
  return n;
}

Buffer& Args::buffer(const Napi::Value& v, const std::string& name, int dtype) const {
  const int64_t id = integer(v, name + " handle", 1);
  auto it = session_.buffers.find(uint32_t(id));
  if (id > UINT32_MAX || it == session_.buffers.end()) fail(name + ": unknown or freed buffer " + std::to_string(id));
  if (dtype >= 0 && it->second.dtype != dtype)
    fail(name + " must be " + dtype_name(dtype) + ", got " + dtype_name(it->second.dtype));
  return it->second;
}

Buffer& Args::in(const Napi::Value& v, const std::string& name, int64_t need, int dtype) const {
  Buffer& b = buffer(v, name, dtype);
  if (b.size < need) fail(name + " has " + std::to_string(b.size) + " elements, needs " + std::to_string(need));
  return b;
}

Buffer& Args::out(size_t i, const char* name, int64_t need, int dtype) const {
  Buffer& b = in(at(i, name), name, need, dtype);
  ++b.version;
  return b;
}

View Args::strided(const Napi::Object& o, const std::string& name, const std::vector<int64_t>& shape, int dtype) const {
  const std::vector<int64_t> strides = integers(o.Get("strides"), name + ".strides", -kMaxSafe + 1);
  if (strides.size() != shape.size()) fail(name + ": " + std::to_string(shape.size()) + " strides expected");
  View out{&buffer(o.Get("buf"), name, dtype), tsr_view{}, count(shape, name)};
  out.v.rank = int64_t(shape.size());
  out.v.offset = integer(o.Get("offset"), name + ".offset");
  int64_t lo = out.v.offset, hi = out.v.offset;
  for (size_t d = 0; d < shape.size(); ++d) {
    out.v.shape[d] = shape[d], out.v.strides[d] = strides[d];
    const int64_t span = count({std::max<int64_t>(shape[d] - 1, 0), std::abs(strides[d])}, name);
    (strides[d] < 0 ? lo : hi) += strides[d] < 0 ? -span : span;
  }
  if (out.elements > 0 && (lo < 0 || hi >= out.buf->size))
    fail(name + " view (shape " + shape_text(shape) + ", offset " + std::to_string(out.v.offset) +
         ") reaches elements [" + std::to_string(lo) + ", " + std::to_string(hi) + "] of a " +
         std::to_string(out.buf->size) + "-element buffer");
  return out;
}

View Args::view(size_t i, const char* name, int dtype) const {
  const Napi::Object o = object(i, name);
  return strided(o, name, integers(o.Get("shape"), std::string(name) + ".shape"), dtype);
}

void Args::ok(int status) const {
  if (status == TSR_OK) return;
  std::string msg = tsr_cuda_last_error();
  if (status == TSR_CUDA_ERROR && !session_.recent.empty()) {
    msg += " [recently enqueued:";
    for (const auto& r : session_.recent) msg += " " + r;
    msg += "]";
  }
  fail_plain(msg);
}

Napi::Value Args::enqueued(int status) const {
  ok(status);
  session_.recent.push_back(op_);
  if (session_.recent.size() > 6) session_.recent.pop_front();
  return env().Undefined();
}

namespace {

Napi::Value TypedArrayOf(Napi::Env env, Napi::ArrayBuffer ab, int dtype, size_t n) {
  if (dtype == TSR_INT32) return Napi::Int32Array::New(env, n, ab, 0);
  return Napi::Float32Array::New(env, n, ab, 0);
}

// Waits on an event from a worker thread, then resolves with the pinned
// staging copy as a typed array (or undefined for sync()).
class EventWaiter : public Napi::AsyncWorker {
 public:
  EventWaiter(Napi::Env env, int device, void* event, void* pinned, size_t elements, int dtype)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        device_(device),
        event_(event),
        pinned_(pinned),
        elements_(elements),
        dtype_(dtype) {}
  ~EventWaiter() override {
    tsr_cuda_event_destroy(event_);
    tsr_cuda_host_free(pinned_);
  }
  Napi::Promise promise() const { return deferred_.Promise(); }
  void Execute() override {
    // A worker thread starts on device 0: make the event's device current.
    if (tsr_cuda_set_device(device_) != TSR_OK || tsr_cuda_event_synchronize(event_) != TSR_OK)
      SetError(tsr_cuda_last_error());
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (dtype_ < 0) {
      deferred_.Resolve(env.Undefined());
      return;
    }
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, elements_ * 4);
    if (elements_ > 0) std::memcpy(ab.Data(), pinned_, elements_ * 4);
    deferred_.Resolve(TypedArrayOf(env, ab, dtype_, elements_));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int device_;
  void* event_;
  void* pinned_;
  size_t elements_;
  int dtype_;  // -1: nothing to return
};

// Records an event after the work enqueued so far; the promise settles when
// it completes. `pinned` (freed with the waiter) then holds `elements`.
Napi::Value Settle(Args& a, void* pinned, size_t elements, int dtype) {
  void* event = nullptr;
  const int status = tsr_cuda_event_record(a.stream(), &event);
  if (status != TSR_OK) tsr_cuda_host_free(pinned);
  a.ok(status);
  auto* waiter = new EventWaiter(a.env(), a.session().device, event, pinned, elements, dtype);
  waiter->Queue();
  return waiter->promise();
}

Napi::Value DeviceCount(Args& a) {
  int count = 0;
  tsr_cuda_device_count(&count);  // 0 without a driver or GPU; never an error
  return Napi::Number::New(a.env(), count);
}

Napi::Value Init(Args& a) {
  Session& s = a.session();
  const int device = int(a.has(0) ? a.integer(0, "device") : 0);
  int count = 0;
  tsr_cuda_device_count(&count);
  if (count == 0) a.fail(std::string("no CUDA GPU present (") + tsr_cuda_last_error() + ")");
  if (device >= count) a.fail("device " + std::to_string(device) + " requested, " + std::to_string(count) + " present");
  if (s.ready && s.device != device)
    a.fail("already initialized on device " + std::to_string(s.device) + " in this environment");
  if (!s.ready) {
    a.ok(tsr_cuda_set_device(device));
    a.ok(tsr_cuda_stream_create(&s.stream));
    s.device = device;
    s.ready = true;
  }
  char name[256] = {};
  int major = 0, minor = 0, sms = 0;
  size_t total = 0;
  a.ok(tsr_cuda_device_info(device, name, sizeof name, &major, &minor, &total, &sms));
  Napi::Object o = Napi::Object::New(a.env());
  o.Set("device", device);
  o.Set("name", name);
  o.Set("computeCapability", std::to_string(major) + "." + std::to_string(minor));
  o.Set("totalMemory", double(total));
  o.Set("multiprocessors", sms);
  return o;
}

Napi::Value Alloc(Args& a) {
  Session& s = a.session();
  const int64_t size = a.integer(0, "size");
  const int dtype = a.choice(a.at(1, "dtype"), "dtype", tsr_dtype_names);
  void* ptr = nullptr;
  a.ok(tsr_cuda_alloc(size_t(size) * 4, s.stream, &ptr));
  const uint32_t id = s.next_id++;
  s.buffers[id] = Buffer{id, ptr, size, dtype, 0};
  // Device memory behind a small JS number: V8 is told, so dropped tensors make the collector run.
  Napi::MemoryManagement::AdjustExternalMemory(a.env(), size * 4);
  return Napi::Number::New(a.env(), id);
}

Napi::Value Free(Args& a) {
  const Buffer b = a.buffer(a.at(0, "buffer"), "buffer");
  a.ok(tsr_cuda_free(b.ptr, a.stream()));
  a.session().buffers.erase(b.id);
  Napi::MemoryManagement::AdjustExternalMemory(a.env(), -b.size * 4);
  return a.env().Undefined();
}

Napi::Value Write(Args& a) {
  Buffer& b = a.buffer(a.at(0, "buffer"), "buffer");
  const Napi::Value data = a.at(1, "data");
  if (!data.IsTypedArray()) a.fail("data must be a Float32Array or Int32Array");
  const Napi::TypedArray arr = data.As<Napi::TypedArray>();
  const napi_typedarray_type want = b.dtype == TSR_INT32 ? napi_int32_array : napi_float32_array;
  if (arr.TypedArrayType() != want) a.fail(std::string("data must match the buffer's dtype ") + dtype_name(b.dtype));
  if (int64_t(arr.ElementLength()) != b.size)
    a.fail("data has " + std::to_string(arr.ElementLength()) + " elements, the buffer " + std::to_string(b.size));
  const uint8_t* src = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  ++b.version;
  return a.enqueued(tsr_cuda_copy_h2d(b.ptr, src, size_t(b.size) * 4, a.stream()));
}

Napi::Value ReadSync(Args& a) {
  Buffer& b = a.buffer(a.at(0, "buffer"), "buffer");
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(a.env(), size_t(b.size) * 4);
  a.ok(tsr_cuda_copy_d2h(ab.Data(), b.ptr, size_t(b.size) * 4, a.stream()));
  return TypedArrayOf(a.env(), ab, b.dtype, size_t(b.size));
}

Napi::Value Read(Args& a) {
  Buffer& b = a.buffer(a.at(0, "buffer"), "buffer");
  const size_t bytes = size_t(b.size) * 4;
  void* pinned = nullptr;
  if (bytes > 0) {
    a.ok(tsr_cuda_host_alloc(bytes, &pinned));
    const int status = tsr_cuda_copy_d2h_async(pinned, b.ptr, bytes, a.stream());
    if (status != TSR_OK) tsr_cuda_host_free(pinned);
    a.ok(status);
  }
  return Settle(a, pinned, size_t(b.size), b.dtype);
}

Napi::Value Sync(Args& a) { return Settle(a, nullptr, 0, -1); }

Napi::Value Memory(Args& a) {
  size_t in_use = 0, cached = 0, free_b = 0, total = 0;
  a.ok(tsr_cuda_memory_stats(&in_use, &cached, &free_b, &total));
  Napi::Object o = Napi::Object::New(a.env());
  o.Set("inUse", double(in_use));
  o.Set("cached", double(cached));
  o.Set("deviceFree", double(free_b));
  o.Set("deviceTotal", double(total));
  o.Set("buffers", double(a.session().buffers.size()));
  return o;
}

Napi::Value EmptyCache(Args& a) {
  a.ok(tsr_cuda_empty_cache());
  return a.env().Undefined();
}

const Entry kStorage[] = {
    {"deviceCount", DeviceCount, true},
    {"init", Init, true},
    {"alloc", Alloc},
    {"free", Free},
    {"write", Write},
    {"read", Read},
    {"readSync", ReadSync},
    {"sync", Sync},
    {"memory", Memory},
    {"emptyCache", EmptyCache},
};

// Every exported function: the session's checks, then the entry.
Napi::Value Run(const Napi::CallbackInfo& info) {
  const auto* bound = static_cast<const std::pair<Session*, const Entry*>*>(info.Data());
  Args a(info, *bound->first, bound->second->op);
  if (!bound->second->before_init && !bound->first->ready)
    a.fail("the CUDA backend is not initialized (call cudaInit first)");
  return bound->second->run(a);
}

// Returns what an environment still holds to the allocator when it shuts
// down (worker threads), after its queued work has finished.
void Cleanup(void* data) {
  auto* s = static_cast<Session*>(data);
  if (s->ready) {
    tsr_cuda_stream_synchronize(s->stream);
    for (auto& [id, b] : s->buffers) tsr_cuda_free(b.ptr, s->stream);
    tsr_cuda_stream_destroy(s->stream);
  }
  delete s;
}

}  // namespace

Session& StartSession(Napi::Env env, Napi::Object exports) {
  auto* s = new Session();
  napi_add_env_cleanup_hook(env, Cleanup, s);
  Export(env, exports, *s, kStorage, std::size(kStorage));
  return *s;
}

void Export(Napi::Env env, Napi::Object exports, Session& session, const Entry* entries, size_t count) {
  for (size_t k = 0; k < count; ++k) {
    std::string name = std::string("cuda") + entries[k].op;
    name[4] = char(std::toupper(static_cast<unsigned char>(name[4])));
    session.exported.emplace_back(&session, &entries[k]);
    exports.Set(name, Napi::Function::New(env, Run, name, &session.exported.back()));
  }
}

}  // namespace tessera::cuda_napi
