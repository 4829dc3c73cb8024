/* C ABI of Tessera's CUDA kernels: raw device pointers, sizes, a stream.
 * Each kernels/cuda/<family>.cu defines its entry points, and they are the one
 * place where arguments are validated (every function below checks what it
 * is given before it touches device memory); callers only turn their own
 * handles into pointers.
 *
 * Called by the N-API binding (native/cuda/binding.cc) and, through ctypes, by
 * bench/device/check_and_bench.py, so it stays plain C with fixed-width fields
 * (every struct field is 8 bytes wide: no padding rules to mirror in Python).
 *
 * Conventions (those of src/backend/interface.ts):
 *  - sizes, offsets and strides count elements; every element is 4 bytes
 *    (float32 or int32);
 *  - outputs are dense row-major, except scatter_add which accumulates;
 *  - every function returns TSR_OK or an error code, and the message (naming
 *    the op, the shapes and the CUDA error) is then in tsr_cuda_last_error(),
 *    per calling thread;
 *  - kernels are enqueued on `stream`; nothing waits for them except the
 *    functions documented as synchronous (index and CSR validation, d2h copy).
 *  - Temporary device memory (split-K partials, reduction partials, error
 *    flags) comes from the library's caching allocator, keyed by stream: a
 *    block freed on a stream is reused only by work later on that stream.
 */
#ifndef TESSERA_CUDA_CAPI_H
#define TESSERA_CUDA_CAPI_H

#include <stddef.h>
#include <stdint.h>

/* The op codes (tsr_dtype, tsr_unary_op, ...) and parameter records
 * (tsr_matmul_params, tsr_conv_params, tsr_pool_params), generated from
 * src/schema.ts. */
#include "kernels/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TSR_MAX_DIMS 8

enum tsr_status {
  TSR_OK = 0,
  TSR_INVALID_ARGUMENT = 1, /* rejected before touching device memory */
  TSR_CUDA_ERROR = 2,       /* a CUDA runtime call or a launch failed */
  TSR_OUT_OF_MEMORY = 3,
  TSR_INDEX_OUT_OF_RANGE = 4, /* data-dependent validation failed */
  TSR_NO_DEVICE = 5
};


/* A strided view of a buffer whose pointer is passed beside it. */
typedef struct {
  int64_t rank;
  int64_t shape[TSR_MAX_DIMS];
  int64_t strides[TSR_MAX_DIMS];
  int64_t offset;
} tsr_view;

typedef struct {
  int64_t rows, cols, nnz;
  const int32_t* row_ptr; /* [rows + 1] */
  const int32_t* col_idx; /* [nnz] */
  const float* values;    /* [nnz], or NULL for all ones */
} tsr_csr;

/* ---- errors, devices, streams ---- */
const char* tsr_cuda_last_error(void);
/* Number of usable GPUs; 0 (and TSR_OK) when there is no driver or no GPU. */
int tsr_cuda_device_count(int* count);
int tsr_cuda_device_info(int device, char* name, size_t name_len, int* cc_major, int* cc_minor,
                         size_t* total_memory, int* multiprocessors);
int tsr_cuda_set_device(int device);
int tsr_cuda_stream_create(void** stream);
int tsr_cuda_stream_destroy(void* stream);
int tsr_cuda_stream_synchronize(void* stream);

/* ---- memory ---- */
/* Caching allocator over cudaMalloc (never managed memory). On failure it
 * releases the cache and retries once; the error names the bytes asked and
 * the bytes free. */
int tsr_cuda_alloc(size_t bytes, void* stream, void** ptr);
int tsr_cuda_free(void* ptr, void* stream);
/* Returns every cached (unused) block to the driver. */
int tsr_cuda_empty_cache(void);
int tsr_cuda_memory_stats(size_t* in_use, size_t* cached, size_t* device_free, size_t* device_total);
/* Pinned host staging memory (cached like device memory). */
int tsr_cuda_host_alloc(size_t bytes, void** ptr);
int tsr_cuda_host_free(void* ptr);
/* h2d from pageable memory: the source may be reused when this returns. */
int tsr_cuda_copy_h2d(void* dst, const void* src, size_t bytes, void* stream);
/* d2h into pinned memory: asynchronous, complete once an event recorded after it completes. */
int tsr_cuda_copy_d2h_async(void* dst, const void* src, size_t bytes, void* stream);
/* d2h into any host memory: waits for the stream. */
int tsr_cuda_copy_d2h(void* dst, const void* src, size_t bytes, void* stream);
int tsr_cuda_event_record(void* stream, void** event);
int tsr_cuda_event_synchronize(void* event); /* safe from any thread */
int tsr_cuda_event_destroy(void* event);

/* ---- elementwise (kernels/cuda/elementwise.cu) ---- */
int tsr_cuda_fill(void* out, int64_t dtype, int64_t n, double value, void* stream);
/* out dense with x's shape; int inputs are converted to float for the math,
 * an int32 out truncates toward zero. */
int tsr_cuda_unary(int64_t op, const void* x, int64_t x_dtype, const tsr_view* xv, void* out,
                   int64_t out_dtype, double alpha, void* stream);
/* a and b views already have out's shape (broadcast through 0 strides).
 * Integer math (wrapping, truncating division) when a and out are int32. */
int tsr_cuda_binary(int64_t op, const void* a, int64_t a_dtype, const tsr_view* av, const void* b,
                    int64_t b_dtype, const tsr_view* bv, void* out, int64_t out_dtype, void* stream);

/* ---- index (kernels/cuda/index.cu) ---- */
/* Strided gather of x into dense out, casting when the dtypes differ; with outv
 * (NULL for dense), into the region of out it places: outv has x's shape, its
 * offset and strides name distinct elements of out, the rest of out is kept. */
int tsr_cuda_copy(const void* x, int64_t x_dtype, const tsr_view* xv, void* out, int64_t out_dtype,
                  const tsr_view* outv, void* stream);
/* out = cond != 0 ? a : b; a, b and out share one dtype. */
int tsr_cuda_where(const void* cond, int64_t cond_dtype, const tsr_view* cv, const void* a, int64_t a_dtype,
                   const tsr_view* av, const void* b, int64_t b_dtype, const tsr_view* bv, void* out,
                   int64_t out_dtype, void* stream);
/* Synchronous: checks that every index of the view lies in [0, data.shape[axis]),
 * where the index view is the index operand of a gather from (or a scatter_add
 * into) `data` along `axis` (only data's rank and shape are read). On failure
 * returns TSR_INDEX_OUT_OF_RANGE and sets *bad_value and *bad_position (the
 * first offending element in row-major order). gather and scatter_add do not
 * check by themselves, so that a caller can check an index buffer once and
 * reuse it. */
int tsr_cuda_check_indices(const int32_t* idx, const tsr_view* iv, const tsr_view* data, int64_t axis,
                           int64_t* bad_value, int64_t* bad_position, void* stream);
/* out (dense, shape iv.shape) = x[.., idx[..], ..] along axis; x and out share
 * one dtype. Indices outside [0, x.shape[axis]) read as 0 (memory safety). */
int tsr_cuda_gather(const void* x, int64_t x_dtype, const tsr_view* xv, int64_t axis, const int32_t* idx,
                    const tsr_view* iv, void* out, int64_t out_dtype, void* stream);
/* out (dense, shape out_shape) += src scattered along axis by idx (atomics);
 * idx and src views share src's shape, src and out one dtype; out of range
 * indices are skipped. */
int tsr_cuda_scatter_add(void* out, int64_t out_dtype, const int64_t* out_shape, int64_t rank, int64_t axis,
                         const int32_t* idx, const tsr_view* iv, const void* src, int64_t src_dtype,
                         const tsr_view* sv, void* stream);

/* ---- reduce (kernels/cuda/reduce.cu) ---- */
/* x dense [outer, size, inner] -> out [outer, inner]; accumulates in float64.
 * max/min propagate NaN; argmax/argmin write int32, first index on ties. */
int tsr_cuda_reduce(int64_t op, const void* x, int64_t x_dtype, int64_t outer, int64_t size,
                    int64_t inner, void* out, int64_t out_dtype, void* stream);

/* ---- gemm (kernels/cuda/gemm.cu) ---- */
/* out = act(alpha * a @ b + bias). */
int tsr_cuda_matmul(const float* a, const float* b, float* out, const tsr_matmul_params* p, void* stream);

/* ---- sparse (kernels/cuda/spmm.cu) ---- */
/* Synchronous: row_ptr starts at 0, never decreases, ends at nnz; every
 * column index lies in [0, cols). The kernels themselves only guard memory. */
int tsr_cuda_csr_validate(const tsr_csr* a, void* stream);
int tsr_cuda_spmm(const tsr_csr* a, const float* x, int64_t F, float* out, void* stream);
int tsr_cuda_sddmm(const tsr_csr* a, const float* x, const float* y, int64_t H, int64_t F, float* out,
                   void* stream);
int tsr_cuda_edge_softmax(const tsr_csr* a, const float* scores, int64_t H, float* out, void* stream);
int tsr_cuda_edge_softmax_backward(const tsr_csr* a, const float* y, const float* g, int64_t H,
                                   float* out, void* stream);

/* ---- cmd (kernels/cuda/cmd.cu); k <= TSR_CMD_MAX_K ---- */
#define TSR_CMD_MAX_K 8
int tsr_cuda_cmd_moments(const float* x, int64_t n, int64_t d, int64_t k, float* mean, float* moments,
                         void* stream);
int tsr_cuda_cmd_moments_backward(const float* x, int64_t n, int64_t d, int64_t k, const float* mean,
                                  const float* moments, const float* g_mean, const float* g_moments,
                                  float* out, void* stream);

/* ---- conv (kernels/cuda/conv.cu): NCDHW, implicit GEMM ---- */
int tsr_cuda_conv_forward(const float* x, const float* w, const float* bias, float* out,
                          const tsr_conv_params* p, void* stream);
int tsr_cuda_conv_backward_input(const float* gy, const float* w, float* gx, const tsr_conv_params* p,
                                 void* stream);
int tsr_cuda_conv_backward_weight(const float* x, const float* gy, float* gw, const tsr_conv_params* p,
                                  void* stream);

/* ---- pool (kernels/cuda/pool.cu) ---- */
int tsr_cuda_max_pool(const float* x, float* out, int32_t* argmax, const tsr_pool_params* p, void* stream);
int tsr_cuda_avg_pool(const float* x, float* out, const tsr_pool_params* p, void* stream);
int tsr_cuda_avg_pool_backward(const float* gy, float* gx, const tsr_pool_params* p, void* stream);

/* ---- nms (kernels/cuda/nms.cu): class-aware greedy NMS over `count` xyxy boxes; keep[0] = number kept,
 * then their indices by descending score (ties by index, NaN last), then -1; count <= 393216 ---- */
int tsr_cuda_nms(const float* boxes, const float* scores, const int32_t* groups, int64_t count, double iou_threshold,
                 int32_t* keep, void* stream);

/* ---- argsort (kernels/cuda/sort.cu): x dense [outer, size, inner]; out (int32, the same layout) holds the
 * positions along the middle axis that sort each line, stable, NaN above every number; descending 0 or 1 ---- */
int tsr_cuda_argsort(const float* x, int64_t outer, int64_t size, int64_t inner, int64_t descending, int32_t* out,
                     void* stream);

/* ---- cumulative (kernels/cuda/scan.cu): x dense [outer, size, inner] (float32 or int32 `dtype`); out (the same
 * dtype and layout) holds the running sums (op TSR_SUM) or products (TSR_PROD) along the middle axis, from its end
 * when reverse is 1; float32 accumulates in double, int32 in int32 (wrapping) ---- */
int tsr_cuda_cumulative(int64_t op, const void* x, int64_t dtype, int64_t outer, int64_t size, int64_t inner,
                        int64_t reverse, void* out, void* stream);

/* ---- lstm (kernels/cuda/lstm.cu): the recurrence of one LSTM layer-direction over T steps, gate order
 * (i, f, g, o) (src/backend/interface.ts: lstmForward, lstmBackward). gates_in, gates, grad_gates [T, B, 4H];
 * states, grad_states [2, T, B, H] (h then c at every time); weight_hh [4H, H]; h0, c0, grad_h0, grad_c0 [B, H];
 * all dense; H <= 12288 ---- */
int tsr_cuda_lstm_forward(const float* gates_in, const float* weight_hh, const float* h0, const float* c0, float* states,
                          float* gates, const tsr_lstm_params* p, void* stream);
int tsr_cuda_lstm_backward(const float* weight_hh, const float* c0, const float* gates, const float* states,
                           const float* grad_states, float* grad_gates, float* grad_h0, float* grad_c0,
                           const tsr_lstm_params* p, void* stream);

/* ---- optimizer updates (kernels/cuda/optim.cu), in place over p->n elements, all dense float32 and distinct
 * (src/backend/interface.ts: adamUpdate, sgdUpdate): param, exp_avg, exp_avg_sq (Adam) or momentum_buffer (SGD)
 * are read and rewritten from grad ---- */
int tsr_cuda_adam_update(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, const tsr_adam_params* p,
                         void* stream);
int tsr_cuda_sgd_update(float* param, const float* grad, float* momentum_buffer, const tsr_sgd_params* p, void* stream);

/* ---- batchnorm (kernels/cuda/batchnorm.cu): batch normalization with batch statistics over x dense
 * [outer, channels, inner], activation fused (src/backend/interface.ts: batchNormForward, batchNormBackward).
 * weight, bias [channels]; stats, sums [2, channels]; addend (optional), out, g, gx, gz (optional) as x ---- */
int tsr_cuda_batchnorm_forward(const float* x, const float* weight, const float* bias, const float* addend, float* out,
                               float* stats, const tsr_batchnorm_params* p, void* stream);
int tsr_cuda_batchnorm_backward(const float* g, const float* x, const float* weight, const float* bias, const float* addend,
                                const float* stats, float* gx, float* sums, float* gz, const tsr_batchnorm_params* p,
                                void* stream);

#ifdef __cplusplus
}
#endif

#endif
