// MPI collectives on host buffers (Float32Array / Int32Array, in place where the collective allows it).
// Compiled only when CMake finds MPI (TESSERA_HAVE_MPI); without it the addon has no mpi* functions and
// src/distributed reports that MPI is absent. MPI is initialised on the first mpiInit() call, not at load,
// so a process that never uses it pays nothing.
//
// Every collective is started non-blocking and polled against a deadline: when a peer has died or
// hangs, the caller does not wait forever but ends the whole job (MPI_Abort) with a message naming
// its rank and the collective, which is what a user of a launched job needs to see.
#include <mpi.h>

#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>

#include "cpu/families.h"

namespace tessera {
namespace {

bool initialised = false;
int world_rank = 0, world_size = 1;

void require_init(const char* kernel) {
  if (!initialised) fail(std::string(kernel) + ": call init() from tessera-tensor/distributed first");
}

// Open MPI loads its transport plugins with dlopen, and they resolve symbols of libmpi itself. Node
// loads this addon (and so libmpi) with local symbol scope, so the plugins would fail to load:
// promote the already loaded libmpi to global scope before MPI_Init.
void promote_libmpi_to_global_scope() {
  Dl_info where{};
  if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &where) && where.dli_fname) {
    dlopen(where.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
  }
}

// Waits for `request` until `timeout_s` seconds have passed (<= 0: forever); on timeout ends the job.
void wait_or_abort(MPI_Request& request, double timeout_s, const char* kernel) {
  const auto start = std::chrono::steady_clock::now();
  int done = 0;
  for (unsigned spins = 0;; spins++) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    if (timeout_s > 0) {
      const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (waited > timeout_s) {
        std::fprintf(stderr, "tessera distributed: rank %d of %d: %s timed out after %.1f s waiting for the other ranks "
                     "(one of them failed or stopped calling collectives); ending the job\n",
                     world_rank, world_size, kernel, timeout_s);
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 3);
      }
    }
    // Spin briefly (collectives on loopback finish in microseconds), then stop burning a core.
    if (spins > 1000) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

MPI_Op op_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel) {
  const int64_t code = int_arg(info, i, kernel, "op");
  switch (code) {
    case 0: return MPI_SUM;
    case 1: return MPI_MAX;
    case 2: return MPI_MIN;
    default: fail(std::string(kernel) + ": op code must be 0 (sum), 1 (max) or 2 (min), got " + std::to_string(code));
  }
}

/** A Float32Array or Int32Array argument: its data, element count and MPI datatype. */
struct HostBuffer {
  void* data;
  int64_t size;
  MPI_Datatype type;
};

HostBuffer buffer_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* what) {
  if (i < info.Length() && info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    Span<int32_t> s = i32_arg(info, i, kernel, what);
    return {s.data, s.size, MPI_INT32_T};
  }
  if (i < info.Length() && info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    Span<float> s = f32_arg(info, i, kernel, what);
    return {s.data, s.size, MPI_FLOAT};
  }
  fail(std::string(kernel) + ": " + what + " must be a Float32Array or an Int32Array");
}

int count_of(int64_t n, const char* kernel) {
  if (n > 0x7fffffff) fail(std::string(kernel) + ": buffers over 2^31-1 elements are not supported by this MPI binding");
  return static_cast<int>(n);
}

// mpiInit(): {rank, size, threadLevel}. Idempotent.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int provided = MPI_THREAD_SINGLE;
  if (!initialised) {
    int already = 0;
    MPI_Initialized(&already);
    if (!already) {
      promote_libmpi_to_global_scope();
      // Only the JavaScript thread calls MPI; the kernel thread pool never does.
      if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) fail("mpiInit: MPI_Init_thread failed");
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    initialised = true;
  }
  MPI_Query_thread(&provided);
  Napi::Object out = Napi::Object::New(env);
  out.Set("rank", world_rank);
  out.Set("size", world_size);
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);
  out.Set("mpiVersion", std::to_string(major) + "." + std::to_string(minor));
  char library[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(library, &length);
  std::string first_line(library, static_cast<size_t>(length));
  first_line = first_line.substr(0, first_line.find_first_of(",\n"));
  out.Set("library", first_line);
  return out;
}

// mpiAllReduce(buf, op, timeoutSeconds): in place.
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  const char* k = "allReduce";
  require_init(k);
  HostBuffer b = buffer_arg(info, 0, k, "buffer");
  MPI_Op op = op_arg(info, 1, k);
  const double timeout = number_arg(info, 2, k, "timeout");
  MPI_Request request;
  MPI_Iallreduce(MPI_IN_PLACE, b.data, count_of(b.size, k), b.type, op, MPI_COMM_WORLD, &request);
  wait_or_abort(request, timeout, k);
  return info.Env().Undefined();
}

// All-reduces started by mpiStartAllReduce and not yet waited for, by id. The JavaScript caller keeps each
// buffer referenced until mpiWait returns (MPI writes into it meanwhile).
std::unordered_map<int64_t, MPI_Request> pending;
int64_t next_request = 1;

int64_t request_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel) {
  const int64_t id = int_arg(info, i, kernel, "request");
  if (pending.find(id) == pending.end()) fail(std::string(kernel) + ": no pending request " + std::to_string(id));
  return id;
}

// mpiStartAllReduce(buf, op): starts an in-place all-reduce and returns its request id at once, so that the
// caller computes while it proceeds (DistributedDataParallel starts a bucket during the backward pass).
Napi::Value StartAllReduce(const Napi::CallbackInfo& info) {
  const char* k = "allReduce";
  require_init(k);
  HostBuffer b = buffer_arg(info, 0, k, "buffer");
  MPI_Op op = op_arg(info, 1, k);
  MPI_Request request;
  MPI_Iallreduce(MPI_IN_PLACE, b.data, count_of(b.size, k), b.type, op, MPI_COMM_WORLD, &request);
  const int64_t id = next_request++;
  pending[id] = request;
  return Napi::Number::New(info.Env(), double(id));
}

// mpiTest(id): lets MPI progress the request (Open MPI moves non-blocking collectives forward only inside MPI
// calls) and says whether it has completed; the request stays pending until mpiWait.
Napi::Value Test(const Napi::CallbackInfo& info) {
  const char* k = "allReduce";
  const int64_t id = request_arg(info, 0, k);
  MPI_Request& request = pending[id];
  int done = request == MPI_REQUEST_NULL;
  if (!done) MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  return Napi::Boolean::New(info.Env(), done != 0);
}

// mpiWait(id, timeoutSeconds): waits for a started request (ending the job on timeout) and forgets it.
Napi::Value Wait(const Napi::CallbackInfo& info) {
  const char* k = "allReduce";
  const int64_t id = request_arg(info, 0, k);
  const double timeout = number_arg(info, 1, k, "timeout");
  MPI_Request request = pending[id];
  pending.erase(id);
  if (request != MPI_REQUEST_NULL) wait_or_abort(request, timeout, k);
  return info.Env().Undefined();
}

// mpiBroadcast(buf, root, timeoutSeconds): in place.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  const char* k = "broadcast";
  require_init(k);
  HostBuffer b = buffer_arg(info, 0, k, "buffer");
  const int64_t root = int_arg(info, 1, k, "root");
  if (root < 0 || root >= world_size) fail(std::string(k) + ": root must be in [0, " + std::to_string(world_size) + "), got " + std::to_string(root));
  const double timeout = number_arg(info, 2, k, "timeout");
  MPI_Request request;
  MPI_Ibcast(b.data, count_of(b.size, k), b.type, static_cast<int>(root), MPI_COMM_WORLD, &request);
  wait_or_abort(request, timeout, k);
  return info.Env().Undefined();
}

// mpiAllGather(send, recv, timeoutSeconds): recv holds size * send.length elements, rank r's block at r.
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  const char* k = "allGather";
  require_init(k);
  HostBuffer send = buffer_arg(info, 0, k, "send buffer");
  HostBuffer recv = buffer_arg(info, 1, k, "receive buffer");
  if (send.type != recv.type) fail(std::string(k) + ": send and receive buffers must have the same type");
  require_length(k, "receive buffer", recv.size, send.size * world_size);
  const double timeout = number_arg(info, 2, k, "timeout");
  MPI_Request request;
  const int n = count_of(send.size, k);
  MPI_Iallgather(send.data, n, send.type, recv.data, n, recv.type, MPI_COMM_WORLD, &request);
  wait_or_abort(request, timeout, k);
  return info.Env().Undefined();
}

// mpiReduceScatter(send, recv, op, timeoutSeconds): send holds size * recv.length elements; rank r gets the
// reduction of every rank's block r.
Napi::Value ReduceScatter(const Napi::CallbackInfo& info) {
  const char* k = "reduceScatter";
  require_init(k);
  HostBuffer send = buffer_arg(info, 0, k, "send buffer");
  HostBuffer recv = buffer_arg(info, 1, k, "receive buffer");
  if (send.type != recv.type) fail(std::string(k) + ": send and receive buffers must have the same type");
  require_length(k, "send buffer", send.size, recv.size * world_size);
  MPI_Op op = op_arg(info, 2, k);
  const double timeout = number_arg(info, 3, k, "timeout");
  MPI_Request request;
  MPI_Ireduce_scatter_block(send.data, recv.data, count_of(recv.size, k), recv.type, op, MPI_COMM_WORLD, &request);
  wait_or_abort(request, timeout, k);
  return info.Env().Undefined();
}

// mpiBarrier(timeoutSeconds)
Napi::Value Barrier(const Napi::CallbackInfo& info) {
  const char* k = "barrier";
  require_init(k);
  const double timeout = number_arg(info, 0, k, "timeout");
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  wait_or_abort(request, timeout, k);
  return info.Env().Undefined();
}

// mpiAbort(code): ends every rank of the job (mpirun kills the others). Does not return.
Napi::Value Abort(const Napi::CallbackInfo& info) {
  const int64_t code = int_arg(info, 0, "abort", "exit code");
  std::fflush(stdout);
  std::fflush(stderr);
  if (initialised) MPI_Abort(MPI_COMM_WORLD, static_cast<int>(code));
  std::_Exit(static_cast<int>(code));
}

// mpiFinalize(): called once at exit by the JavaScript side.
Napi::Value Finalize(const Napi::CallbackInfo& info) {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (initialised && !finalized) MPI_Finalize();
  return info.Env().Undefined();
}

void InitMpi(Napi::Env env, Napi::Object exports) {
  exports.Set("mpiInit", Napi::Function::New(env, Init, "mpiInit"));
  exports.Set("mpiAllReduce", Napi::Function::New(env, AllReduce, "mpiAllReduce"));
  exports.Set("mpiStartAllReduce", Napi::Function::New(env, StartAllReduce, "mpiStartAllReduce"));
  exports.Set("mpiTest", Napi::Function::New(env, Test, "mpiTest"));
  exports.Set("mpiWait", Napi::Function::New(env, Wait, "mpiWait"));
  exports.Set("mpiBroadcast", Napi::Function::New(env, Broadcast, "mpiBroadcast"));
  exports.Set("mpiAllGather", Napi::Function::New(env, AllGather, "mpiAllGather"));
  exports.Set("mpiReduceScatter", Napi::Function::New(env, ReduceScatter, "mpiReduceScatter"));
  exports.Set("mpiBarrier", Napi::Function::New(env, Barrier, "mpiBarrier"));
  exports.Set("mpiAbort", Napi::Function::New(env, Abort, "mpiAbort"));
  exports.Set("mpiFinalize", Napi::Function::New(env, Finalize, "mpiFinalize"));
}

}  // namespace
TESSERA_REGISTER_FAMILY(mpi, InitMpi);
}  // namespace tessera
