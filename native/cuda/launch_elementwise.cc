// C ABI of kernels/cuda/elementwise.cu: fill, unary, binary.
#include "native/cuda/launch_common.h"

using namespace tessera::cuda;

extern "C" {

int tsr_cuda_fill(void* out, int64_t dtype, int64_t n, double value, void* stream) {
  return guarded("fill", [&]() -> int {
    if (n < 0) return invalid("fill", "negative size " + std::to_string(n));
    if (!valid_dtype(dtype)) return invalid("fill", "unknown dtype " + std::to_string(dtype));
    if (n > 0 && !out) return invalid("fill", "out is null");
    return check("fill", std::to_string(n) + " " + dtype_name(dtype), fill(out, int(dtype), n, value, as_stream(stream)));
  });
}

int tsr_cuda_unary(int64_t op, const void* x, int64_t x_dtype, const tsr_view* xv, void* out, int64_t out_dtype,
                   double alpha, void* stream) {
  return guarded("unary", [&]() -> int {
    if (op < 0 || op >= TSR_UNARY_OP_COUNT) return invalid("unary", "unknown op " + std::to_string(op));
    if (!valid_dtype(x_dtype) || !valid_dtype(out_dtype)) return invalid("unary", "unknown dtype");
    const std::string why = view_problem(xv);
    if (!why.empty()) return invalid("unary", "x: " + why);
    if (view_elements(*xv) > 0 && (!x || !out)) return invalid("unary", "null pointer");
    return check("unary", "op " + std::to_string(op) + ", x " + view_string(*xv),
                 unary(int(op), x, int(x_dtype), *xv, out, int(out_dtype), float(alpha), as_stream(stream)));
  });
}

int tsr_cuda_binary(int64_t op, const void* a, int64_t a_dtype, const tsr_view* av, const void* b, int64_t b_dtype,
                    const tsr_view* bv, void* out, int64_t out_dtype, void* stream) {
  return guarded("binary", [&]() -> int {
    if (op < 0 || op >= TSR_BINARY_OP_COUNT) return invalid("binary", "unknown op " + std::to_string(op));
    if (!valid_dtype(a_dtype) || !valid_dtype(b_dtype) || !valid_dtype(out_dtype))
      return invalid("binary", "unknown dtype");
    std::string why = view_problem(av);
    if (why.empty()) why = view_problem(bv);
    if (!why.empty()) return invalid("binary", why);
    if (!same_shape(*av, *bv))
      return invalid("binary", "a " + view_string(*av) + " and b " + view_string(*bv) + " differ in shape");
    if (view_elements(*av) > 0 && (!a || !b || !out)) return invalid("binary", "null pointer");
    return check("binary", "op " + std::to_string(op) + ", a " + view_string(*av) + ", b " + view_string(*bv),
                 binary(int(op), a, int(a_dtype), *av, b, int(b_dtype), *bv, out, int(out_dtype), as_stream(stream)));
  });
}

}  // extern "C"
