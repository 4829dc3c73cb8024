// NCCL collectives on the CUDA backend's buffers, for tessera-tensor/distributed's backend 'nccl'. libnccl is
// not linked: ncclInit() loads it with dlopen, from $TESSERA_NCCL_LIBRARY when set (PyTorch's wheels ship one
// at site-packages/nvidia/nccl/lib/libnccl.so.2), else the system's libnccl.so.2. So the addon builds and loads
// without NCCL, and the error names what was looked for. Collectives run in place on the session's stream,
// ordered with every kernel of the backend. Only a job of one rank is supported in this version (its unique id
// needs no exchange); more ranks are refused with that reason.
#include <dlfcn.h>

#include <cstdlib>
#include <iterator>
#include <string>

#include "native/cuda/runtime.h"

namespace tessera::cuda_napi {
namespace {

// The part of nccl.h used here (its ABI has been stable since NCCL 2.0; ncclAvg since 2.10).
using ncclResult = int;
struct NcclComm;
struct NcclUniqueId { char internal[128]; };
constexpr ncclResult kNcclSuccess = 0;
constexpr int kNcclInt32 = 2, kNcclFloat32 = 7;
constexpr int kNcclSum = 0, kNcclMax = 2, kNcclMin = 3, kNcclAvg = 4;

struct Nccl {
  void* library = nullptr;
  std::string path;
  ncclResult (*getVersion)(int*) = nullptr;
  ncclResult (*getUniqueId)(NcclUniqueId*) = nullptr;
  ncclResult (*commInitRank)(NcclComm**, int, NcclUniqueId, int) = nullptr;
  ncclResult (*allReduce)(const void*, void*, size_t, int, int, NcclComm*, void*) = nullptr;
  ncclResult (*broadcast)(const void*, void*, size_t, int, int, NcclComm*, void*) = nullptr;
  const char* (*errorString)(ncclResult) = nullptr;
  NcclComm* comm = nullptr;
  int version = 0;
};
Nccl nccl;

template <class F>
void resolve(Args& a, F& fn, const char* name) {
  fn = reinterpret_cast<F>(dlsym(nccl.library, name));
  if (!fn) a.fail(nccl.path + " has no " + name + " (not an NCCL library, or one older than 2.10)");
}

void check(Args& a, ncclResult r, const char* call) {
  if (r != kNcclSuccess) a.fail(std::string(call) + " failed: " + (nccl.errorString ? nccl.errorString(r) : "error " + std::to_string(r)));
}

// ncclInit(rank, size): loads libnccl and makes the communicator; returns NCCL's version (e.g. 21903).
Napi::Value Init(Args& a) {
  const int64_t rank = a.integer(0, "rank"), size = a.integer(1, "size");
  if (size < 1 || rank >= size) a.fail("rank " + std::to_string(rank) + " is not in a job of " + std::to_string(size));
  if (size != 1) {
    a.fail("jobs of more than one rank are not supported by this version's NCCL backend (the communicator's unique "
           "id is not exchanged between processes); use backend 'mpi'");
  }
  if (!nccl.library) {
    const char* chosen = std::getenv("TESSERA_NCCL_LIBRARY");
    nccl.path = chosen && *chosen ? chosen : "libnccl.so.2";
    nccl.library = dlopen(nccl.path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!nccl.library) {
      const char* why = dlerror();
      a.fail("could not load NCCL from " + nccl.path + " (" + (why ? why : "unknown error") + "); install NCCL or set " +
             "TESSERA_NCCL_LIBRARY to a libnccl.so.2 (PyTorch's wheels ship one in site-packages/nvidia/nccl/lib)");
    }
    resolve(a, nccl.errorString, "ncclGetErrorString");
    resolve(a, nccl.getVersion, "ncclGetVersion");
    resolve(a, nccl.getUniqueId, "ncclGetUniqueId");
    resolve(a, nccl.commInitRank, "ncclCommInitRank");
    resolve(a, nccl.allReduce, "ncclAllReduce");
    resolve(a, nccl.broadcast, "ncclBroadcast");
    check(a, nccl.getVersion(&nccl.version), "ncclGetVersion");
  }
  if (!nccl.comm) {
    NcclUniqueId id{};
    check(a, nccl.getUniqueId(&id), "ncclGetUniqueId");
    check(a, nccl.commInitRank(&nccl.comm, int(size), id, int(rank)), "ncclCommInitRank");
  }
  return Napi::Number::New(a.env(), nccl.version);
}

int nccl_type(const Buffer& b) { return b.dtype == TSR_INT32 ? kNcclInt32 : kNcclFloat32; }

Buffer& communicated(Args& a) {
  if (!nccl.comm) a.fail("call ncclInit first");
  Buffer& b = a.buffer(a.at(0, "buffer"), "buffer");
  ++b.version;
  return b;
}

// ncclAllReduce(buffer, op): in place; op 0 sum, 1 max, 2 min, 3 mean.
Napi::Value AllReduce(Args& a) {
  Buffer& b = communicated(a);
  const int64_t code = a.integer(1, "op");
  static const int kOps[] = {kNcclSum, kNcclMax, kNcclMin, kNcclAvg};
  if (code > 3) a.fail("op code must be 0 (sum), 1 (max), 2 (min) or 3 (mean), got " + std::to_string(code));
  if (code == 3 && b.dtype != TSR_FLOAT32) a.fail("op 'mean' needs a float32 buffer");
  check(a, nccl.allReduce(b.ptr, b.ptr, size_t(b.size), nccl_type(b), kOps[code], nccl.comm, a.stream()), "ncclAllReduce");
  return a.env().Undefined();
}

// ncclBroadcast(buffer, root): in place.
Napi::Value Broadcast(Args& a) {
  Buffer& b = communicated(a);
  const int64_t root = a.integer(1, "root");
  check(a, nccl.broadcast(b.ptr, b.ptr, size_t(b.size), nccl_type(b), int(root), nccl.comm, a.stream()), "ncclBroadcast");
  return a.env().Undefined();
}

const Entry kNccl[] = {
    {"ncclInit", Init},
    {"ncclAllReduce", AllReduce},
    {"ncclBroadcast", Broadcast},
};

}  // namespace

void ExportNccl(Napi::Env env, Napi::Object exports, Session& session) {
  Export(env, exports, session, kNccl, std::size(kNccl));
}

}  // namespace tessera::cuda_napi
