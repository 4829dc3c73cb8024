#include "threadpool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TESSERA_CPU_RELAX() _mm_pause()
#else
#define TESSERA_CPU_RELAX() ((void)0)
#endif

namespace tessera {
namespace {

// True on pool workers and on a caller while it runs a parallel region: a parallel_for
// issued from there runs inline, which is what makes nesting deadlock-free.
thread_local bool t_in_parallel_region = false;

int threads_from_environment() {
  if (const char* env = std::getenv("TESSERA_NUM_THREADS")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1) return static_cast<int>(std::min<long>(v, 1024));
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

/** How long a thread spins for the next event before it sleeps. Long enough to catch a region that
 *  follows another straight away (the chunks of one op, the ops of a tight native loop), short enough
 *  not to hold a core while the JavaScript thread runs other work between ops (a machine may have only
 *  two). Measured in time: the cost of a pause instruction differs tenfold between CPUs. */
constexpr std::chrono::microseconds kSpin{20};

/** Spins for up to kSpin until ready() holds; false if it did not. */
template <class Ready>
bool spin_until(Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; i++) {
      if (ready()) return true;
      TESSERA_CPU_RELAX();
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

// A region's chunks are claimed from a shared counter by the caller and by whichever workers are
// awake; the caller never waits for a worker that has not joined. A worker joins by incrementing
// the user count in `entry_` while its open bit is set; the caller clears the bit once every chunk
// is claimed and then waits only for the workers that joined (they are running chunks). A worker
// that wakes late finds the region closed and goes back to sleep, so one descheduled worker (the VM
// may be busy with other processes) costs the caller nothing.
class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    for (int i = 1; i < threads_; i++) workers_.emplace_back([this] { worker_loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      generation_.fetch_add(1);
    }
    wake_workers_.notify_all();
    for (auto& w : workers_) w.join();
  }
  int threads() const { return threads_; }

  void run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    // Several JavaScript threads (worker_threads) share this library: one region at a time.
    std::lock_guard<std::mutex> region(region_mutex_);
    // A few chunks per thread where n allows (a thread that was descheduled then leaves its share to
    // the others), each at least `grain` long, their lengths within one of each other (ten tiles of
    // a GEMM are ten chunks of one and two, not five of two, which two threads would split 3 to 2).
    fn_ = &fn;
    n_ = n;
    chunks_ = std::clamp<int64_t>(n / grain, 1, int64_t(threads_) * 4);
    next_chunk_.store(0);
    failed_.store(false);
    error_ = nullptr;
    entry_.store(kOpen);  // no worker is inside: the last region closed with none left
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1);
    }
    if (sleeping_workers_.load() > 0) wake_workers_.notify_all();

    t_in_parallel_region = true;
    run_chunks();
    t_in_parallel_region = false;

    // Every chunk is claimed: close the region to late workers, then wait for the ones inside.
    if (entry_.fetch_and(~kOpen) != kOpen) {
      auto none_inside = [this] { return entry_.load() == 0; };
      if (!spin_until(none_inside)) {
        std::unique_lock<std::mutex> lock(mutex_);
        workers_done_.wait(lock, none_inside);
      }
    }
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static constexpr uint64_t kOpen = uint64_t(1) << 63;  // entry_: open bit | workers inside

  void run_chunks() {
    for (;;) {
      int64_t c = next_chunk_.fetch_add(1);
      if (c >= chunks_ || failed_.load(std::memory_order_relaxed)) return;
      const int64_t begin = c * n_ / chunks_, end = (c + 1) * n_ / chunks_;
      try {
        (*fn_)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!failed_.exchange(true)) error_ = std::current_exception();
      }
    }
  }

  /** Joins the open region if there is one. */
  bool enter() {
    uint64_t e = entry_.load();
    while (e & kOpen)
      if (entry_.compare_exchange_weak(e, e + 1)) return true;
    return false;
  }

  void leave() {
    if (entry_.fetch_sub(1) == 1) {  // the last one out of a closed region
      std::lock_guard<std::mutex> lock(mutex_);
      workers_done_.notify_one();
    }
  }

  void worker_loop() {
    t_in_parallel_region = true;
    // Not generation_.load(): a job may already have been posted before this thread first runs.
    uint64_t seen = 0;
    for (;;) {
      auto posted = [&] { return generation_.load() != seen; };
      if (!spin_until(posted)) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleeping_workers_.fetch_add(1);
        wake_workers_.wait(lock, posted);
        sleeping_workers_.fetch_sub(1);
      }
      seen = generation_.load();
      if (stopping_) return;
      if (enter()) {
        run_chunks();
        leave();
      }
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex region_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_workers_, workers_done_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> stopping_{false};

  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, chunks_ = 0;
  std::atomic<int64_t> next_chunk_{0};
  std::atomic<uint64_t> entry_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool instance(threads_from_environment());
  return instance;
}

}  // namespace

int num_threads() { return pool().threads(); }

bool in_parallel_region() { return t_in_parallel_region; }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (t_in_parallel_region || n < 2 * grain || pool().threads() == 1) {
    fn(0, n);
    return;
  }
  pool().run(n, grain, fn);
}

}  // namespace tessera
