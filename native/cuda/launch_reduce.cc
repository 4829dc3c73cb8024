// C ABI of kernels/cuda/reduce.cu.
#include "native/cuda/launch_common.h"

using namespace tessera::cuda;

extern "C" int tsr_cuda_reduce(int64_t op, const void* x, int64_t x_dtype, int64_t outer, int64_t size, int64_t inner,
                               void* out, int64_t out_dtype, void* stream) {
  return guarded("reduce", [&]() -> int {
    const std::string dims = "[" + std::to_string(outer) + ", " + std::to_string(size) + ", " + std::to_string(inner) + "]";
    if (op < 0 || op >= TSR_REDUCE_OP_COUNT) return invalid("reduce", "unknown op " + std::to_string(op));
    if (!valid_dtype(x_dtype) || !valid_dtype(out_dtype)) return invalid("reduce", "unknown dtype");
    if (outer < 0 || size < 0 || inner < 0) return invalid("reduce", "negative extent in " + dims);
    // argmax/argmin indices are int32, as is every reduced position.
    if (size > INT32_MAX) return invalid("reduce", "reduced axis of " + dims + " has 2^31 or more elements");
    if (outer * inner > 0 && (!out || (size > 0 && !x))) return invalid("reduce", "null pointer");
    return check("reduce", "op " + std::to_string(op) + " over " + dims,
                 reduce(int(op), x, int(x_dtype), outer, size, inner, out, int(out_dtype), as_stream(stream)));
  });
}
