// C ABI of kernels/cuda/spmm.cu.
#include "native/cuda/launch_common.h"

using namespace tessera::cuda;

namespace {

std::string csr_string(const tsr_csr& a) {
  return "CSR " + std::to_string(a.rows) + "x" + std::to_string(a.cols) + " with " + std::to_string(a.nnz) + " entries";
}

// Extents the kernels can index (32-bit columns and entries) and pointers
// for whatever the extents say exists.
std::string csr_problem(const tsr_csr* a) {
  if (!a) return "CSR is null";
  if (a->rows < 0 || a->cols < 0 || a->nnz < 0) return "negative extent in " + csr_string(*a);
  if (a->cols > INT32_MAX || a->nnz > INT32_MAX) return csr_string(*a) + " needs 64-bit indices";
  if (!a->row_ptr || (a->nnz > 0 && !a->col_idx)) return "null index array in " + csr_string(*a);
  return "";
}

template <class Enqueue>
int run_sparse(const char* op, const tsr_csr* a, const std::string& extra_problem, const std::string& detail,
               Enqueue enqueue) {
  return guarded(op, [&]() -> int {
    std::string why = csr_problem(a);
    if (why.empty()) why = extra_problem;
    if (!why.empty()) return invalid(op, why);
    return check(op, csr_string(*a) + detail, enqueue());
  });
}

}  // namespace

extern "C" {

int tsr_cuda_csr_validate(const tsr_csr* a, void* stream) {
  return guarded("csr_validate", [&]() -> int {
    const std::string why = csr_problem(a);
    if (!why.empty()) return invalid("csr_validate", why);
    int problem = 0;
    int64_t where = 0, value = 0;
    if (int st = check("csr_validate", csr_string(*a), csr_validate(*a, &problem, &where, &value, as_stream(stream))))
      return st;
    const std::string head = "cuda csr_validate: " + csr_string(*a) + ": ";
    switch (problem) {
      case 0: return TSR_OK;
      case 1: return fail(TSR_INDEX_OUT_OF_RANGE, head + "rowPtr[0] is " + std::to_string(value) + ", not 0");
      case 2:
        return fail(TSR_INDEX_OUT_OF_RANGE, head + "rowPtr decreases from row " + std::to_string(where) + " to the next");
      case 3:
        return fail(TSR_INDEX_OUT_OF_RANGE, head + "rowPtr[rows] is " + std::to_string(value) + ", not nnz");
      default:
        return fail(TSR_INDEX_OUT_OF_RANGE, head + "column index " + std::to_string(value) + " at entry " +
                                                std::to_string(where) + " is outside [0, cols)");
    }
  });
}

int tsr_cuda_spmm(const tsr_csr* a, const float* x, int64_t F, float* out, void* stream) {
  const bool ok = F >= 0 && (!a || a->rows * F == 0 || (out && (a->nnz == 0 || x)));
  return run_sparse("spmm", a, ok ? "" : "negative F or null pointer", ", F " + std::to_string(F),
                    [&] { return spmm(*a, x, F, out, as_stream(stream)); });
}

int tsr_cuda_sddmm(const tsr_csr* a, const float* x, const float* y, int64_t H, int64_t F, float* out, void* stream) {
  const bool ok = H >= 0 && F >= 0 && (!a || a->nnz * H == 0 || (out && x && y));
  return run_sparse("sddmm", a, ok ? "" : "negative H or F, or null pointer",
                    ", H " + std::to_string(H) + ", F " + std::to_string(F),
                    [&] { return sddmm(*a, x, y, H, F, out, as_stream(stream)); });
}

int tsr_cuda_edge_softmax(const tsr_csr* a, const float* scores, int64_t H, float* out, void* stream) {
  const bool ok = H >= 0 && (!a || a->nnz * H == 0 || (scores && out));
  return run_sparse("edge_softmax", a, ok ? "" : "negative H or null pointer", ", H " + std::to_string(H),
                    [&] { return edge_softmax(*a, scores, H, out, as_stream(stream)); });
}

int tsr_cuda_edge_softmax_backward(const tsr_csr* a, const float* y, const float* g, int64_t H, float* out,
                                   void* stream) {
  const bool ok = H >= 0 && (!a || a->nnz * H == 0 || (y && g && out));
  return run_sparse("edge_softmax_backward", a, ok ? "" : "negative H or null pointer", ", H " + std::to_string(H),
                    [&] { return edge_softmax_backward(*a, y, g, H, out, as_stream(stream)); });
}

}  // extern "C"
