#include "threadpool.h"

#include <algorithm>
#include <atomic>
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
    // A few chunks per thread lets a thread that was descheduled catch up on the others.
    int64_t chunk = std::max<int64_t>(grain, (n + threads_ * 4 - 1) / (threads_ * 4));
    fn_ = &fn;
    n_ = n;
    chunk_ = chunk;
    chunks_ = (n + chunk - 1) / chunk;
    next_chunk_.store(0);
    failed_.store(false);
    error_ = nullptr;
    busy_workers_.store(static_cast<int>(workers_.size()));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1);
    }
    wake_workers_.notify_all();

    t_in_parallel_region = true;
    run_chunks();
    t_in_parallel_region = false;

    wait_until([this] { return busy_workers_.load() == 0; }, workers_done_);
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // Spin briefly (a parallel region usually follows another within microseconds), then sleep.
  template <class Ready>
  void wait_until(Ready ready, std::condition_variable& cv) {
    for (int spin = 0; spin < 4000; spin++) {
      if (ready()) return;
      TESSERA_CPU_RELAX();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    cv.wait(lock, ready);
  }

  void run_chunks() {
    for (;;) {
      int64_t c = next_chunk_.fetch_add(1);
      if (c >= chunks_ || failed_.load(std::memory_order_relaxed)) return;
      int64_t begin = c * chunk_, end = std::min(n_, begin + chunk_);
      try {
        (*fn_)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!failed_.exchange(true)) error_ = std::current_exception();
      }
    }
  }

  void worker_loop() {
    t_in_parallel_region = true;
    // Not generation_.load(): a job may already have been posted before this thread first runs.
    uint64_t seen = 0;
    for (;;) {
      wait_until([&] { return generation_.load() != seen; }, wake_workers_);
      seen = generation_.load();
      if (stopping_) return;
      run_chunks();
      if (busy_workers_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        workers_done_.notify_one();
      }
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex region_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_workers_, workers_done_;
  std::atomic<uint64_t> generation_{0};
  bool stopping_ = false;

  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, chunk_ = 1, chunks_ = 0;
  std::atomic<int64_t> next_chunk_{0};
  std::atomic<int> busy_workers_{0};
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
  if (t_in_parallel_region || n <= grain || pool().threads() == 1) {
    fn(0, n);
    return;
  }
  pool().run(n, grain, fn);
}

}  // namespace tessera
