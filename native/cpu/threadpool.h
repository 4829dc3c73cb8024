// A small persistent thread pool shared by every CPU kernel family.
#pragma once
#include <cstdint>
#include <functional>

namespace tessera {

/** Threads a parallel_for may use, the caller included: TESSERA_NUM_THREADS if set (>= 1),
 *  else std::thread::hardware_concurrency(). */
int num_threads();

/** True inside a parallel_for's fn (on any thread): a parallel_for issued there runs inline. */
bool in_parallel_region();

/** Calls fn(begin, end) over disjoint ranges covering [0, n), each at least `grain` long,
 *  on up to num_threads() threads; returns when all have finished.
 *  Runs inline when n < 2 * grain (no two ranges of `grain`), with one thread, or when called
 *  from inside another parallel_for (so kernels may nest freely). `grain` should be the work
 *  that outweighs a hand-off to another thread (a few microseconds). The caller runs ranges
 *  too and does not wait for workers that have not started (a busy machine may not schedule
 *  them soon); workers spin briefly for the next region, then sleep. The first exception
 *  thrown by fn is rethrown in the caller once every range has stopped. */
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace tessera
