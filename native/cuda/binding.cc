// N-API side of the CUDA backend: buffers live on the GPU and JavaScript
// holds integer handles to them. Every function validates its arguments here
// (handles, dtypes, and that every element a view or a size reaches lies
// inside its buffer) before the C ABI (native/cuda/capi.h) touches device
// memory, and every failure becomes a JS Error that names the op.
//
// All work of one Node environment goes to one CUDA stream, in call order:
// kernels and copies are asynchronous; read() and sync() return promises
// resolved from a worker thread that waits on an event recorded after the
// work; readSync() waits on the stream itself.
//
// Data-dependent checks need the GPU's answer, so they synchronize: indices
// of gather/scatterAdd and CSR structure are checked once per (buffer,
// version); a buffer's version changes whenever it is written or produced
// by a kernel, so repeated use of the same index or graph buffers costs one
// check. The kernels guard memory by themselves, so a check only decides
// whether the user gets an error.
#include "native/cuda/binding.h"

#include <cmath>
#include <cstring>
#include <deque>
#include <iterator>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "native/cuda/capi.h"

namespace {

struct Buffer {
  uint32_t id;
  void* ptr;
  int64_t size;  // elements
  int dtype;     // tsr_dtype
  uint64_t version;
};

struct State {
  bool ready = false;
  int device = -1;
  void* stream = nullptr;
  uint32_t next_id = 1;  // never reused, so a stale handle is always caught
  std::unordered_map<uint32_t, Buffer> buffers;
  std::unordered_set<std::string> validated;  // index and CSR checks that passed
  std::deque<std::string> recent;             // last ops enqueued, for asynchronous errors
};

constexpr const char* kUnaryOps[] = {"neg",  "exp",     "log",  "log1p",     "sqrt", "rsqrt",    "abs",
                                     "sign", "tanh",    "sigmoid", "relu",   "leakyRelu", "elu", "gelu",
                                     "geluGrad", "softplus", "sin", "cos",    "square", "reciprocal", "floor"};
constexpr const char* kBinaryOps[] = {"add", "sub", "mul", "div", "pow", "minimum", "maximum",
                                      "eq",  "ne",  "lt",  "le",  "gt",  "ge"};
constexpr const char* kReduceOps[] = {"sum", "prod", "max", "min", "argmax", "argmin"};
constexpr const char* kActivations[] = {"none", "relu", "gelu", "tanh", "sigmoid"};
constexpr const char* kPrecisions[] = {"float32", "tf32", "bf16"};
constexpr const char* kDtypes[] = {"float32", "int32"};  // index = tsr_dtype
static_assert(std::size(kUnaryOps) == TSR_UNARY_OP_COUNT, "unary ops out of sync with capi.h");
static_assert(std::size(kBinaryOps) == TSR_BINARY_OP_COUNT, "binary ops out of sync with capi.h");
static_assert(std::size(kReduceOps) == TSR_REDUCE_OP_COUNT, "reduce ops out of sync with capi.h");
static_assert(std::size(kActivations) == TSR_ACT_COUNT, "activations out of sync with capi.h");
static_assert(std::size(kPrecisions) == TSR_PRECISION_COUNT, "precisions out of sync with capi.h");

const char* dtype_name(int d) { return d == TSR_INT32 ? "int32" : "float32"; }

// Element counts and offsets stay below 2^53 (exact in a JS number); the
// checks below compare against it so that no product can overflow int64.
constexpr int64_t kMaxSafe = int64_t(1) << 53;

// Arguments of one call, with checks that throw errors naming the op.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op) : info_(info), op_(op) {}
  Napi::Env env() const { return info_.Env(); }
  State& state() const { return *static_cast<State*>(info_.Data()); }
  const char* op() const { return op_; }

  [[noreturn]] void fail(const std::string& why) const {
    throw Napi::Error::New(env(), std::string("cuda ") + op_ + ": " + why);
  }
  bool has(size_t i) const { return i < info_.Length() && !info_[i].IsUndefined() && !info_[i].IsNull(); }
  Napi::Value at(size_t i, const char* name) const {
    if (!has(i)) fail(std::string("missing argument '") + name + "'");
    return info_[i];
  }
  int64_t integer(const Napi::Value& v, const std::string& name, int64_t min = 0) const {
    if (!v.IsNumber()) fail("'" + name + "' must be a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!(d == std::floor(d)) || d < double(min) || d >= double(kMaxSafe))
      fail("'" + name + "' must be an integer >= " + std::to_string(min) + ", got " + std::to_string(d));
    return int64_t(d);
  }
  int64_t integer(size_t i, const char* name, int64_t min = 0) const { return integer(at(i, name), name, min); }
  double number(size_t i, const char* name) const {
    const Napi::Value v = at(i, name);
    if (!v.IsNumber()) fail(std::string("'") + name + "' must be a number");
    return v.As<Napi::Number>().DoubleValue();
  }
  Napi::Object object(size_t i, const char* name) const {
    const Napi::Value v = at(i, name);
    if (!v.IsObject()) fail(std::string("'") + name + "' must be an object");
    return v.As<Napi::Object>();
  }
  template <size_t N>
  int choice(const Napi::Value& v, const char* name, const char* const (&names)[N]) const {
    const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
    for (size_t k = 0; k < N; ++k)
      if (s == names[k]) return int(k);
    fail(std::string("unknown ") + name + " '" + s + "'");
  }
  template <size_t N>
  int choice(size_t i, const char* name, const char* const (&names)[N]) const {
    return choice(at(i, name), name, names);
  }
  // Integers of a JS array: a shape, strides (negative allowed) or a triple.
  std::vector<int64_t> integers(const Napi::Value& v, const std::string& name, int64_t min) const {
    if (!v.IsArray()) fail("'" + name + "' must be an array");
    const Napi::Array arr = v.As<Napi::Array>();
    if (arr.Length() > TSR_MAX_DIMS) fail("'" + name + "' has more than 8 entries");
    std::vector<int64_t> out(arr.Length());
    for (uint32_t k = 0; k < arr.Length(); ++k) out[k] = integer(arr.Get(k), name, min);
    return out;
  }

 private:
  const Napi::CallbackInfo& info_;
  const char* op_;
};

State& ready(const Args& a) {
  State& st = a.state();
  if (!st.ready) a.fail("the CUDA backend is not initialized (call cudaInit first)");
  return st;
}

// Throws the C ABI's message (it already names the op) when status != OK.
void ok(const Args& a, int status) {
  if (status == TSR_OK) return;
  std::string msg = tsr_cuda_last_error();
  if (status == TSR_CUDA_ERROR && !a.state().recent.empty()) {
    msg += " [recently enqueued:";
    for (const auto& r : a.state().recent) msg += " " + r;
    msg += "]";
  }
  throw Napi::Error::New(a.env(), msg);
}

void enqueued(const Args& a) {
  auto& recent = a.state().recent;
  recent.push_back(a.op());
  if (recent.size() > 6) recent.pop_front();
}

std::string shape_string(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t k = 0; k < s.size(); ++k) out += (k ? ", " : "") + std::to_string(s[k]);
  return out + "]";
}

int64_t product(const Args& a, const std::vector<int64_t>& shape, const std::string& name) {
  int64_t n = 1;
  for (int64_t e : shape) {
    if (e != 0 && n > kMaxSafe / e) a.fail(name + " " + shape_string(shape) + " has too many elements");
    n *= e;
  }
  return n;
}

Buffer& buffer(const Args& a, const Napi::Value& v, const std::string& name, int want_dtype = -1) {
  State& st = ready(a);
  const int64_t id = a.integer(v, name + " handle", 1);
  auto it = st.buffers.find(uint32_t(id));
  if (it == st.buffers.end() || id > UINT32_MAX) a.fail(name + ": unknown or freed buffer " + std::to_string(id));
  if (want_dtype >= 0 && it->second.dtype != want_dtype)
    a.fail(name + " must be " + dtype_name(want_dtype) + ", got " + dtype_name(it->second.dtype));
  return it->second;
}
Buffer& buffer(const Args& a, size_t i, const char* name, int want_dtype = -1) {
  return buffer(a, a.at(i, name), name, want_dtype);
}

// A buffer that must hold at least `elements` elements.
Buffer& sized(const Args& a, const Napi::Value& v, const std::string& name, int64_t elements, int want_dtype) {
  Buffer& b = buffer(a, v, name, want_dtype);
  if (b.size < elements)
    a.fail(name + " has " + std::to_string(b.size) + " elements, needs " + std::to_string(elements));
  return b;
}
Buffer& sized(const Args& a, size_t i, const char* name, int64_t elements, int want_dtype) {
  return sized(a, a.at(i, name), name, elements, want_dtype);
}

// An output: at least `elements` elements; its contents change.
Buffer& output(const Args& a, size_t i, const char* name, int64_t elements, int want_dtype) {
  Buffer& b = sized(a, i, name, elements, want_dtype);
  ++b.version;
  return b;
}

struct View {
  Buffer* buf;
  tsr_view v;
  int64_t elements;
  std::vector<int64_t> shape;
};

// Checks that every element the view reaches lies inside its buffer.
void check_reach(const Args& a, const std::string& name, const Buffer& b, const tsr_view& v, int64_t elements) {
  if (elements == 0) return;
  int64_t lo = v.offset, hi = v.offset;
  for (int64_t d = 0; d < v.rank; ++d) {
    const int64_t step = v.strides[d];
    if (step > kMaxSafe / (v.shape[d] > 0 ? v.shape[d] : 1) || -step > kMaxSafe / (v.shape[d] > 0 ? v.shape[d] : 1))
      a.fail(name + ": stride " + std::to_string(step) + " too large");
    const int64_t span = (v.shape[d] - 1) * step;
    (span < 0 ? lo : hi) += span;
  }
  if (lo < 0 || hi >= b.size)
    a.fail(name + " view (shape " + shape_string(std::vector<int64_t>(v.shape, v.shape + v.rank)) + ", offset " +
           std::to_string(v.offset) + ") reaches elements [" + std::to_string(lo) + ", " + std::to_string(hi) +
           "] of a " + std::to_string(b.size) + "-element buffer");
}

View view(const Args& a, size_t i, const char* name, int want_dtype = -1) {
  const Napi::Object o = a.object(i, name);
  View out;
  out.buf = &buffer(a, o.Get("buf"), name, want_dtype);
  out.shape = a.integers(o.Get("shape"), std::string(name) + ".shape", 0);
  const std::vector<int64_t> strides = a.integers(o.Get("strides"), std::string(name) + ".strides", -kMaxSafe + 1);
  if (strides.size() != out.shape.size()) a.fail(std::string(name) + ": shape and strides differ in length");
  out.v = tsr_view{};
  out.v.rank = int64_t(out.shape.size());
  for (size_t d = 0; d < out.shape.size(); ++d) out.v.shape[d] = out.shape[d], out.v.strides[d] = strides[d];
  out.v.offset = a.integer(o.Get("offset"), std::string(name) + ".offset", 0);
  out.elements = product(a, out.shape, name);
  check_reach(a, name, *out.buf, out.v, out.elements);
  return out;
}

std::string index_error(const char* op, int64_t value, int64_t bound, int64_t axis) {
  return std::string(op) + ": index " + std::to_string(value) + " out of range [0, " + std::to_string(bound) +
         ") on axis " + std::to_string(axis) + " (cuda)";
}

// Checks an index view against [0, bound) on the GPU, once per buffer version.
void check_indices(const Args& a, const View& idx, int64_t bound, int64_t axis) {
  State& st = a.state();
  std::string key = "i" + std::to_string(idx.buf->id) + ":" +
                    std::to_string(idx.buf->version) + ":" + std::to_string(bound) + ":" +
                    std::to_string(idx.v.offset) + shape_string(idx.shape);
  for (int64_t d = 0; d < idx.v.rank; ++d) key += "," + std::to_string(idx.v.strides[d]);
  if (st.validated.count(key)) return;
  int64_t value = 0, position = 0;
  const int status = tsr_cuda_check_indices(static_cast<const int32_t*>(idx.buf->ptr), &idx.v, bound, &value,
                                            &position, st.stream);
  if (status == TSR_INDEX_OUT_OF_RANGE) throw Napi::Error::New(a.env(), index_error(a.op(), value, bound, axis));
  ok(a, status);
  if (st.validated.size() > 4096) st.validated.clear();
  st.validated.insert(key);
}

struct Csr {
  tsr_csr c;
};

Csr csr(const Args& a, size_t i) {
  const Napi::Object o = a.object(i, "csr");
  Csr out;
  out.c.rows = a.integer(o.Get("rows"), "csr.rows");
  out.c.cols = a.integer(o.Get("cols"), "csr.cols");
  out.c.nnz = a.integer(o.Get("nnz"), "csr.nnz");
  Buffer& rp = sized(a, o.Get("rowPtr"), "csr.rowPtr", out.c.rows + 1, TSR_INT32);
  Buffer& ci = sized(a, o.Get("colIdx"), "csr.colIdx", out.c.nnz, TSR_INT32);
  out.c.row_ptr = static_cast<const int32_t*>(rp.ptr);
  out.c.col_idx = static_cast<const int32_t*>(ci.ptr);
  out.c.values = nullptr;
  const Napi::Value values = o.Get("values");
  if (!values.IsUndefined() && !values.IsNull())
    out.c.values = static_cast<const float*>(sized(a, values, "csr.values", out.c.nnz, TSR_FLOAT32).ptr);
  State& st = a.state();
  const std::string key = "c" + std::to_string(rp.id) + ":" + std::to_string(rp.version) + ":" + std::to_string(ci.id) + ":" +
                          std::to_string(ci.version) + ":" + std::to_string(out.c.rows) + ":" +
                          std::to_string(out.c.cols) + ":" + std::to_string(out.c.nnz);
  if (!st.validated.count(key)) {
    ok(a, tsr_cuda_csr_validate(&out.c, st.stream));
    if (st.validated.size() > 4096) st.validated.clear();
    st.validated.insert(key);
  }
  return out;
}

std::vector<int64_t> triple(const Args& a, const Napi::Object& o, const char* name, int64_t min) {
  std::vector<int64_t> t = a.integers(o.Get(name), name, min);
  if (t.size() != 3) a.fail(std::string(name) + " must have 3 entries");
  return t;
}

tsr_conv_params conv_params(const Args& a, size_t i, size_t precision_at) {
  const Napi::Object o = a.object(i, "params");
  tsr_conv_params p{};
  int64_t* fields[] = {&p.N, &p.C, &p.D, &p.H, &p.W, &p.O, &p.kd, &p.kh, &p.kw, &p.groups, &p.oD, &p.oH, &p.oW};
  const char* names[] = {"N", "C", "D", "H", "W", "O", "kd", "kh", "kw", "groups", "oD", "oH", "oW"};
  for (size_t k = 0; k < std::size(fields); ++k) *fields[k] = a.integer(o.Get(names[k]), names[k], 1);
  const auto s = triple(a, o, "stride", 1), pad = triple(a, o, "padding", 0), dil = triple(a, o, "dilation", 1);
  for (int k = 0; k < 3; ++k) p.stride[k] = s[k], p.padding[k] = pad[k], p.dilation[k] = dil[k];
  if (p.C % p.groups || p.O % p.groups) a.fail("groups must divide C and O");
  p.precision = a.has(precision_at) ? a.choice(precision_at, "precision", kPrecisions) : TSR_PRECISION_FLOAT32;
  return p;
}

tsr_pool_params pool_params(const Args& a, size_t i) {
  const Napi::Object o = a.object(i, "params");
  tsr_pool_params p{};
  int64_t* fields[] = {&p.N, &p.C, &p.D, &p.H, &p.W, &p.kd, &p.kh, &p.kw, &p.oD, &p.oH, &p.oW};
  const char* names[] = {"N", "C", "D", "H", "W", "kd", "kh", "kw", "oD", "oH", "oW"};
  for (size_t k = 0; k < std::size(fields); ++k) *fields[k] = a.integer(o.Get(names[k]), names[k], 0);
  const auto s = triple(a, o, "stride", 1), pad = triple(a, o, "padding", 0);
  for (int k = 0; k < 3; ++k) p.stride[k] = s[k], p.padding[k] = pad[k];
  return p;
}

// ---------------------------------------------------------------------------
// Device, storage, synchronization.

Napi::Value DeviceCount(const Napi::CallbackInfo& info) {
  int count = 0;
  tsr_cuda_device_count(&count);  // 0 without a driver or GPU; never an error
  return Napi::Number::New(info.Env(), count);
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Args a(info, "init");
  State& st = a.state();
  const int device = int(a.has(0) ? a.integer(0, "device") : 0);
  int count = 0;
  tsr_cuda_device_count(&count);
  if (count == 0) a.fail(std::string("no CUDA GPU present (") + tsr_cuda_last_error() + ")");
  if (device >= count) a.fail("device " + std::to_string(device) + " requested, " + std::to_string(count) + " present");
  if (st.ready && st.device != device)
    a.fail("already initialized on device " + std::to_string(st.device) + " in this environment");
  if (!st.ready) {
    ok(a, tsr_cuda_set_device(device));
    ok(a, tsr_cuda_stream_create(&st.stream));
    st.device = device;
    st.ready = true;
  }
  char name[256] = {};
  int major = 0, minor = 0, sms = 0;
  size_t total = 0;
  ok(a, tsr_cuda_device_info(device, name, sizeof name, &major, &minor, &total, &sms));
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("device", device);
  o.Set("name", name);
  o.Set("computeCapability", std::to_string(major) + "." + std::to_string(minor));
  o.Set("totalMemory", double(total));
  o.Set("multiprocessors", sms);
  return o;
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Args a(info, "alloc");
  State& st = ready(a);
  const int64_t size = a.integer(0, "size");
  const int dtype = a.choice(1, "dtype", kDtypes);
  void* ptr = nullptr;
  ok(a, tsr_cuda_alloc(size_t(size) * 4, st.stream, &ptr));
  const uint32_t id = st.next_id++;
  st.buffers[id] = Buffer{id, ptr, size, dtype, 0};
  return Napi::Number::New(info.Env(), id);
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  Args a(info, "free");
  State& st = ready(a);
  Buffer& b = buffer(a, 0, "buffer");
  const uint32_t id = uint32_t(a.integer(0, "buffer"));
  ok(a, tsr_cuda_free(b.ptr, st.stream));
  st.buffers.erase(id);
  return info.Env().Undefined();
}

Napi::Value Write(const Napi::CallbackInfo& info) {
  Args a(info, "write");
  State& st = ready(a);
  Buffer& b = buffer(a, 0, "buffer");
  const Napi::Value data = a.at(1, "data");
  if (!data.IsTypedArray()) a.fail("data must be a Float32Array or Int32Array");
  const Napi::TypedArray arr = data.As<Napi::TypedArray>();
  const napi_typedarray_type want = b.dtype == TSR_INT32 ? napi_int32_array : napi_float32_array;
  if (arr.TypedArrayType() != want) a.fail(std::string("data must match the buffer's dtype ") + dtype_name(b.dtype));
  if (int64_t(arr.ElementLength()) != b.size)
    a.fail("data has " + std::to_string(arr.ElementLength()) + " elements, the buffer " + std::to_string(b.size));
  const uint8_t* src = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  ok(a, tsr_cuda_copy_h2d(b.ptr, src, size_t(b.size) * 4, st.stream));
  ++b.version;
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value TypedArrayOf(Napi::Env env, Napi::ArrayBuffer ab, int dtype, size_t n) {
  if (dtype == TSR_INT32) return Napi::Int32Array::New(env, n, ab, 0);
  return Napi::Float32Array::New(env, n, ab, 0);
}

Napi::Value ReadSync(const Napi::CallbackInfo& info) {
  Args a(info, "readSync");
  State& st = ready(a);
  Buffer& b = buffer(a, 0, "buffer");
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(info.Env(), size_t(b.size) * 4);
  ok(a, tsr_cuda_copy_d2h(ab.Data(), b.ptr, size_t(b.size) * 4, st.stream));
  return TypedArrayOf(info.Env(), ab, b.dtype, size_t(b.size));
}

// Waits on an event from a worker thread, then resolves with the pinned
// staging copy as a typed array (or undefined for sync()).
class EventWaiter : public Napi::AsyncWorker {
 public:
  EventWaiter(Napi::Env env, int device, void* event, void* pinned, size_t elements, int dtype)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), device_(device), event_(event),
        pinned_(pinned), elements_(elements), dtype_(dtype) {}
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

Napi::Value Read(const Napi::CallbackInfo& info) {
  Args a(info, "read");
  State& st = ready(a);
  Buffer& b = buffer(a, 0, "buffer");
  const size_t bytes = size_t(b.size) * 4;
  void* pinned = nullptr;
  if (bytes > 0) {
    ok(a, tsr_cuda_host_alloc(bytes, &pinned));
    const int status = tsr_cuda_copy_d2h_async(pinned, b.ptr, bytes, st.stream);
    if (status != TSR_OK) tsr_cuda_host_free(pinned);
    ok(a, status);
  }
  void* event = nullptr;
  const int status = tsr_cuda_event_record(st.stream, &event);
  if (status != TSR_OK) tsr_cuda_host_free(pinned);
  ok(a, status);
  auto* waiter = new EventWaiter(info.Env(), st.device, event, pinned, size_t(b.size), b.dtype);
  waiter->Queue();
  return waiter->promise();
}

Napi::Value Sync(const Napi::CallbackInfo& info) {
  Args a(info, "sync");
  State& st = ready(a);
  void* event = nullptr;
  ok(a, tsr_cuda_event_record(st.stream, &event));
  auto* waiter = new EventWaiter(info.Env(), st.device, event, nullptr, 0, -1);
  waiter->Queue();
  return waiter->promise();
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  Args a(info, "memory");
  ready(a);
  size_t in_use = 0, cached = 0, free_b = 0, total = 0;
  ok(a, tsr_cuda_memory_stats(&in_use, &cached, &free_b, &total));
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("inUse", double(in_use));
  o.Set("cached", double(cached));
  o.Set("deviceFree", double(free_b));
  o.Set("deviceTotal", double(total));
  o.Set("buffers", double(a.state().buffers.size()));
  return o;
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  Args a(info, "emptyCache");
  ready(a);
  ok(a, tsr_cuda_empty_cache());
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------
// Kernels. Each returns undefined once its work is enqueued.

Napi::Value Fill(const Napi::CallbackInfo& info) {
  Args a(info, "fill");
  State& st = ready(a);
  Buffer& out = output(a, 0, "out", 0, -1);
  ok(a, tsr_cuda_fill(out.ptr, out.dtype, out.size, a.number(1, "value"), st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value Copy(const Napi::CallbackInfo& info) {
  Args a(info, "copy");
  State& st = ready(a);
  const View x = view(a, 0, "x");
  Buffer& out = output(a, 1, "out", x.elements, -1);
  ok(a, tsr_cuda_copy(x.buf->ptr, x.buf->dtype, &x.v, out.ptr, out.dtype, st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  Args a(info, "unary");
  State& st = ready(a);
  const int op = a.choice(0, "unary op", kUnaryOps);
  const View x = view(a, 1, "x");
  Buffer& out = output(a, 2, "out", x.elements, -1);
  const double alpha = a.has(3) ? a.number(3, "alpha") : 0.0;
  ok(a, tsr_cuda_unary(op, x.buf->ptr, x.buf->dtype, &x.v, out.ptr, out.dtype, alpha, st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  Args a(info, "binary");
  State& st = ready(a);
  const int op = a.choice(0, "binary op", kBinaryOps);
  const View x = view(a, 1, "a"), y = view(a, 2, "b");
  if (x.shape != y.shape) a.fail("a " + shape_string(x.shape) + " and b " + shape_string(y.shape) + " differ in shape");
  Buffer& out = output(a, 3, "out", x.elements, -1);
  ok(a, tsr_cuda_binary(op, x.buf->ptr, x.buf->dtype, &x.v, y.buf->ptr, y.buf->dtype, &y.v, out.ptr, out.dtype,
                        st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value Where(const Napi::CallbackInfo& info) {
  Args a(info, "where");
  State& st = ready(a);
  const View c = view(a, 0, "cond"), x = view(a, 1, "a"), y = view(a, 2, "b");
  if (c.shape != x.shape || c.shape != y.shape) a.fail("cond, a and b differ in shape");
  if (x.buf->dtype != y.buf->dtype) a.fail("a and b differ in dtype");
  Buffer& out = output(a, 3, "out", c.elements, x.buf->dtype);
  ok(a, tsr_cuda_where(c.buf->ptr, c.buf->dtype, &c.v, x.buf->ptr, &x.v, y.buf->ptr, &y.v, out.ptr, out.dtype,
                       st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Args a(info, "reduce");
  State& st = ready(a);
  const int op = a.choice(0, "reduce op", kReduceOps);
  const int64_t outer = a.integer(2, "outer"), size = a.integer(3, "size"), inner = a.integer(4, "inner");
  const std::vector<int64_t> dims = {outer, size, inner};
  Buffer& x = sized(a, 1, "x", product(a, dims, "x"), -1);
  Buffer& out = output(a, 5, "out", product(a, {outer, inner}, "out"), -1);
  ok(a, tsr_cuda_reduce(op, x.ptr, x.dtype, outer, size, inner, out.ptr, out.dtype, st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Args a(info, "matmul");
  State& st = ready(a);
  const Napi::Object po = a.object(3, "params");
  tsr_matmul_params p{};
  p.batch = a.integer(po.Get("batch"), "batch");
  p.M = a.integer(po.Get("M"), "M");
  p.N = a.integer(po.Get("N"), "N");
  p.K = a.integer(po.Get("K"), "K");
  const Napi::Value alpha = po.Get("alpha");
  p.alpha = alpha.IsNumber() ? alpha.As<Napi::Number>().DoubleValue() : 1.0;
  p.act = a.choice(po.Get("act"), "activation", kActivations);
  p.precision = a.has(4) ? a.choice(4, "precision", kPrecisions) : TSR_PRECISION_FLOAT32;
  View x = view(a, 0, "a", TSR_FLOAT32), y = view(a, 1, "b", TSR_FLOAT32);
  if (x.v.rank != 3 || y.v.rank != 3) a.fail("a and b must be 3-D views [batch, M, K] and [batch, K, N]");
  const std::vector<int64_t> want_a = {p.batch, p.M, p.K}, want_b = {p.batch, p.K, p.N};
  if (x.shape != want_a || y.shape != want_b)
    a.fail("a " + shape_string(x.shape) + " and b " + shape_string(y.shape) + " do not match batch " +
           std::to_string(p.batch) + ", M " + std::to_string(p.M) + ", N " + std::to_string(p.N) + ", K " +
           std::to_string(p.K));
  for (int d = 0; d < 3; ++d) p.a_strides[d] = x.v.strides[d], p.b_strides[d] = y.v.strides[d];
  p.a_offset = x.v.offset;
  p.b_offset = y.v.offset;
  const Napi::Value bias = po.Get("bias");
  p.bias = nullptr;
  if (!bias.IsUndefined() && !bias.IsNull()) p.bias = static_cast<const float*>(sized(a, bias, "bias", p.N, TSR_FLOAT32).ptr);
  Buffer& out = output(a, 2, "out", product(a, {p.batch, p.M, p.N}, "out"), TSR_FLOAT32);
  ok(a, tsr_cuda_matmul(static_cast<const float*>(x.buf->ptr), static_cast<const float*>(y.buf->ptr),
                        static_cast<float*>(out.ptr), &p, st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value Gather(const Napi::CallbackInfo& info) {
  Args a(info, "gather");
  State& st = ready(a);
  const View x = view(a, 0, "x");
  const int64_t axis = a.integer(1, "axis");
  const View idx = view(a, 2, "idx", TSR_INT32);
  const std::vector<int64_t> out_shape = a.integers(a.at(4, "outShape"), "outShape", 0);
  if (out_shape != idx.shape) a.fail("idx " + shape_string(idx.shape) + " must have outShape " + shape_string(out_shape));
  if (axis >= x.v.rank) a.fail("axis " + std::to_string(axis) + " outside rank " + std::to_string(x.v.rank));
  Buffer& out = output(a, 3, "out", idx.elements, x.buf->dtype);
  check_indices(a, idx, x.v.shape[axis], axis);
  ok(a, tsr_cuda_gather(x.buf->ptr, &x.v, axis, static_cast<const int32_t*>(idx.buf->ptr), &idx.v, out.ptr, st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  Args a(info, "scatterAdd");
  State& st = ready(a);
  const std::vector<int64_t> out_shape = a.integers(a.at(1, "outShape"), "outShape", 0);
  const int64_t axis = a.integer(2, "axis");
  const View idx = view(a, 3, "idx", TSR_INT32), src = view(a, 4, "src");
  if (axis >= int64_t(out_shape.size())) a.fail("axis " + std::to_string(axis) + " outside the rank of outShape");
  Buffer& out = output(a, 0, "out", product(a, out_shape, "out"), src.buf->dtype);
  check_indices(a, idx, out_shape[axis], axis);
  ok(a, tsr_cuda_scatter_add(out.ptr, out.dtype, out_shape.data(), int64_t(out_shape.size()), axis,
                             static_cast<const int32_t*>(idx.buf->ptr), &idx.v, src.buf->ptr, &src.v, st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

const float* floats(const Buffer& b) { return static_cast<const float*>(b.ptr); }
float* floats_out(Buffer& b) { return static_cast<float*>(b.ptr); }

Napi::Value Spmm(const Napi::CallbackInfo& info) {
  Args a(info, "spmm");
  State& st = ready(a);
  const Csr m = csr(a, 0);
  const int64_t F = a.integer(2, "F");
  const Buffer& x = sized(a, 1, "x", product(a, {m.c.cols, F}, "x"), TSR_FLOAT32);
  Buffer& out = output(a, 3, "out", product(a, {m.c.rows, F}, "out"), TSR_FLOAT32);
  ok(a, tsr_cuda_spmm(&m.c, floats(x), F, floats_out(out), st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value Sddmm(const Napi::CallbackInfo& info) {
  Args a(info, "sddmm");
  State& st = ready(a);
  const Csr m = csr(a, 0);
  const int64_t H = a.integer(3, "H"), F = a.integer(4, "F");
  const Buffer& x = sized(a, 1, "x", product(a, {m.c.rows, H, F}, "x"), TSR_FLOAT32);
  const Buffer& y = sized(a, 2, "y", product(a, {m.c.cols, H, F}, "y"), TSR_FLOAT32);
  Buffer& out = output(a, 5, "out", product(a, {m.c.nnz, H}, "out"), TSR_FLOAT32);
  ok(a, tsr_cuda_sddmm(&m.c, floats(x), floats(y), H, F, floats_out(out), st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value EdgeSoftmax(const Napi::CallbackInfo& info) {
  Args a(info, "edgeSoftmax");
  State& st = ready(a);
  const Csr m = csr(a, 0);
  const int64_t H = a.integer(2, "H");
  const Buffer& s = sized(a, 1, "scores", product(a, {m.c.nnz, H}, "scores"), TSR_FLOAT32);
  Buffer& out = output(a, 3, "out", product(a, {m.c.nnz, H}, "out"), TSR_FLOAT32);
  ok(a, tsr_cuda_edge_softmax(&m.c, floats(s), H, floats_out(out), st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value EdgeSoftmaxBackward(const Napi::CallbackInfo& info) {
  Args a(info, "edgeSoftmaxBackward");
  State& st = ready(a);
  const Csr m = csr(a, 0);
  const int64_t H = a.integer(3, "H");
  const int64_t n = product(a, {m.c.nnz, H}, "y");
  const Buffer& y = sized(a, 1, "y", n, TSR_FLOAT32);
  const Buffer& g = sized(a, 2, "g", n, TSR_FLOAT32);
  Buffer& out = output(a, 4, "out", n, TSR_FLOAT32);
  ok(a, tsr_cuda_edge_softmax_backward(&m.c, floats(y), floats(g), H, floats_out(out), st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value CmdMoments(const Napi::CallbackInfo& info) {
  Args a(info, "cmdMoments");
  State& st = ready(a);
  const int64_t n = a.integer(1, "n"), d = a.integer(2, "d"), k = a.integer(3, "k", 1);
  const Buffer& x = sized(a, 0, "x", product(a, {n, d}, "x"), TSR_FLOAT32);
  Buffer& mean = output(a, 4, "mean", d, TSR_FLOAT32);
  Buffer& moments = output(a, 5, "moments", product(a, {k - 1, d}, "moments"), TSR_FLOAT32);
  ok(a, tsr_cuda_cmd_moments(floats(x), n, d, k, floats_out(mean), floats_out(moments), st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value CmdMomentsBackward(const Napi::CallbackInfo& info) {
  Args a(info, "cmdMomentsBackward");
  State& st = ready(a);
  const int64_t n = a.integer(1, "n"), d = a.integer(2, "d"), k = a.integer(3, "k", 1);
  const int64_t nd = product(a, {n, d}, "x"), kd = product(a, {k - 1, d}, "moments");
  const Buffer& x = sized(a, 0, "x", nd, TSR_FLOAT32);
  const Buffer& mean = sized(a, 4, "mean", d, TSR_FLOAT32);
  const Buffer& moments = sized(a, 5, "moments", kd, TSR_FLOAT32);
  const Buffer& g_mean = sized(a, 6, "gMean", d, TSR_FLOAT32);
  const Buffer& g_moments = sized(a, 7, "gMoments", kd, TSR_FLOAT32);
  Buffer& out = output(a, 8, "out", nd, TSR_FLOAT32);
  ok(a, tsr_cuda_cmd_moments_backward(floats(x), n, d, k, floats(mean), floats(moments), floats(g_mean),
                                      floats(g_moments), floats_out(out), st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

int64_t conv_input_size(const Args& a, const tsr_conv_params& p) { return product(a, {p.N, p.C, p.D, p.H, p.W}, "x"); }
int64_t conv_output_size(const Args& a, const tsr_conv_params& p) {
  return product(a, {p.N, p.O, p.oD, p.oH, p.oW}, "out");
}
int64_t conv_weight_size(const Args& a, const tsr_conv_params& p) {
  return product(a, {p.O, p.C / p.groups, p.kd, p.kh, p.kw}, "w");
}

Napi::Value Conv(const Napi::CallbackInfo& info) {
  Args a(info, "conv");
  State& st = ready(a);
  const tsr_conv_params p = conv_params(a, 4, 5);
  const Buffer& x = sized(a, 0, "x", conv_input_size(a, p), TSR_FLOAT32);
  const Buffer& w = sized(a, 1, "w", conv_weight_size(a, p), TSR_FLOAT32);
  const float* bias = a.has(2) ? floats(sized(a, 2, "bias", p.O, TSR_FLOAT32)) : nullptr;
  Buffer& out = output(a, 3, "out", conv_output_size(a, p), TSR_FLOAT32);
  ok(a, tsr_cuda_conv_forward(floats(x), floats(w), bias, floats_out(out), &p, st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value ConvBackwardInput(const Napi::CallbackInfo& info) {
  Args a(info, "convBackwardInput");
  State& st = ready(a);
  const tsr_conv_params p = conv_params(a, 3, 4);
  const Buffer& gy = sized(a, 0, "gy", conv_output_size(a, p), TSR_FLOAT32);
  const Buffer& w = sized(a, 1, "w", conv_weight_size(a, p), TSR_FLOAT32);
  Buffer& gx = output(a, 2, "gx", conv_input_size(a, p), TSR_FLOAT32);
  ok(a, tsr_cuda_conv_backward_input(floats(gy), floats(w), floats_out(gx), &p, st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value ConvBackwardWeight(const Napi::CallbackInfo& info) {
  Args a(info, "convBackwardWeight");
  State& st = ready(a);
  const tsr_conv_params p = conv_params(a, 3, 4);
  const Buffer& x = sized(a, 0, "x", conv_input_size(a, p), TSR_FLOAT32);
  const Buffer& gy = sized(a, 1, "gy", conv_output_size(a, p), TSR_FLOAT32);
  Buffer& gw = output(a, 2, "gw", conv_weight_size(a, p), TSR_FLOAT32);
  ok(a, tsr_cuda_conv_backward_weight(floats(x), floats(gy), floats_out(gw), &p, st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

int64_t pool_input_size(const Args& a, const tsr_pool_params& p) { return product(a, {p.N, p.C, p.D, p.H, p.W}, "x"); }
int64_t pool_output_size(const Args& a, const tsr_pool_params& p) {
  return product(a, {p.N, p.C, p.oD, p.oH, p.oW}, "out");
}

Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  Args a(info, "maxPool");
  State& st = ready(a);
  const tsr_pool_params p = pool_params(a, 3);
  const Buffer& x = sized(a, 0, "x", pool_input_size(a, p), TSR_FLOAT32);
  Buffer& out = output(a, 1, "out", pool_output_size(a, p), TSR_FLOAT32);
  Buffer& argmax = output(a, 2, "argmax", pool_output_size(a, p), TSR_INT32);
  ok(a, tsr_cuda_max_pool(floats(x), floats_out(out), static_cast<int32_t*>(argmax.ptr), &p, st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value AvgPool(const Napi::CallbackInfo& info) {
  Args a(info, "avgPool");
  State& st = ready(a);
  const tsr_pool_params p = pool_params(a, 2);
  const Buffer& x = sized(a, 0, "x", pool_input_size(a, p), TSR_FLOAT32);
  Buffer& out = output(a, 1, "out", pool_output_size(a, p), TSR_FLOAT32);
  ok(a, tsr_cuda_avg_pool(floats(x), floats_out(out), &p, st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

Napi::Value AvgPoolBackward(const Napi::CallbackInfo& info) {
  Args a(info, "avgPoolBackward");
  State& st = ready(a);
  const tsr_pool_params p = pool_params(a, 2);
  const Buffer& gy = sized(a, 0, "gy", pool_output_size(a, p), TSR_FLOAT32);
  Buffer& gx = output(a, 1, "gx", pool_input_size(a, p), TSR_FLOAT32);
  ok(a, tsr_cuda_avg_pool_backward(floats(gy), floats_out(gx), &p, st.stream));
  enqueued(a);
  return info.Env().Undefined();
}

// Returns what an environment still holds to the allocator when it shuts
// down (worker threads), after its queued work has finished.
void Cleanup(void* data) {
  auto* st = static_cast<State*>(data);
  if (st->ready) {
    tsr_cuda_stream_synchronize(st->stream);
    for (auto& [id, b] : st->buffers) tsr_cuda_free(b.ptr, st->stream);
    tsr_cuda_stream_destroy(st->stream);
  }
  delete st;
}

}  // namespace

void RegisterCuda(Napi::Env env, Napi::Object exports) {
  auto* st = new State();
  napi_add_env_cleanup_hook(env, Cleanup, st);
  struct Entry {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  const Entry entries[] = {
      {"cudaDeviceCount", DeviceCount},
      {"cudaInit", Init},
      {"cudaAlloc", Alloc},
      {"cudaFree", Free},
      {"cudaWrite", Write},
      {"cudaRead", Read},
      {"cudaReadSync", ReadSync},
      {"cudaSync", Sync},
      {"cudaMemory", Memory},
      {"cudaEmptyCache", EmptyCache},
      {"cudaFill", Fill},
      {"cudaCopy", Copy},
      {"cudaUnary", Unary},
      {"cudaBinary", Binary},
      {"cudaWhere", Where},
      {"cudaReduce", Reduce},
      {"cudaMatmul", Matmul},
      {"cudaGather", Gather},
      {"cudaScatterAdd", ScatterAdd},
      {"cudaSpmm", Spmm},
      {"cudaSddmm", Sddmm},
      {"cudaEdgeSoftmax", EdgeSoftmax},
      {"cudaEdgeSoftmaxBackward", EdgeSoftmaxBackward},
      {"cudaCmdMoments", CmdMoments},
      {"cudaCmdMomentsBackward", CmdMomentsBackward},
      {"cudaConv", Conv},
      {"cudaConvBackwardInput", ConvBackwardInput},
      {"cudaConvBackwardWeight", ConvBackwardWeight},
      {"cudaMaxPool", MaxPool},
      {"cudaAvgPool", AvgPool},
      {"cudaAvgPoolBackward", AvgPoolBackward},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name, st));
}
