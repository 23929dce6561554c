#include "dbn/core/parallel.hpp"

#include "dbn/core/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define DBN_CPU_RELAX() _mm_pause()
#else
#define DBN_CPU_RELAX() ((void)0)
#endif

namespace dbn {

ThreadPool::ThreadPool(std::size_t threads) : size_(threads) {
    DBN_CHECK(threads >= 1, ConfigError, "ThreadPool: needs at least one thread (got 0)");
    threads_.reserve(threads - 1);
    for (std::size_t t = 1; t < threads; ++t) threads_.emplace_back([this, t] { worker(t); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    start_cv_.notify_all();
    for (auto& th : threads_) th.join();
}

void ThreadPool::execute(std::size_t t) {
    try {
        (*job_)(t);
    } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
        abort_.store(true, std::memory_order_release);
    }
}

void ThreadPool::worker(std::size_t t) {
    std::size_t seen = 0;
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
            if (stop_) return;
            seen = generation_;
        }
        execute(t);
        std::lock_guard<std::mutex> lock(mutex_);
        if (--running_ == 0) done_cv_.notify_one();
    }
}

void ThreadPool::run(const std::function<void(std::size_t)>& fn) {
    if (size_ == 1) {
        fn(0);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        job_ = &fn;
        error_ = nullptr;
        abort_.store(false);
        arrived_.store(0);
        running_ = size_ - 1;
        ++generation_;
    }
    start_cv_.notify_all();
    execute(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return running_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
}

bool ThreadPool::barrier() {
    if (size_ == 1) return !abort_.load(std::memory_order_acquire);
    const std::size_t phase = phase_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == size_) {
        arrived_.store(0, std::memory_order_relaxed);
        phase_.store(phase + 1, std::memory_order_release);
    } else {
        // Spin for a few microseconds (the usual wait between minibatch phases), then yield the
        // core, which matters on machines shared with other work.
        std::size_t spins = 0;
        while (phase_.load(std::memory_order_acquire) == phase) {
            if (abort_.load(std::memory_order_acquire)) return false;
            if (++spins < 4000) {
                DBN_CPU_RELAX();
            } else {
                std::this_thread::yield();
            }
        }
    }
    return !abort_.load(std::memory_order_acquire);
}

}  // namespace dbn
