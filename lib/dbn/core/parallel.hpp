#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dbn {

/// @brief A fixed team of threads for data-parallel loops that synchronize often (a minibatch
/// every millisecond), with a barrier that spins briefly before it yields.
///
/// `run(fn)` calls fn(t) for t = 0 .. size()-1, t = 0 on the calling thread, and returns when
/// all have returned. Inside fn, `barrier()` waits until every member reached it; it returns
/// false once a member has thrown, so that the others leave their loops instead of waiting
/// forever. The first exception is rethrown by run(). Workers sleep between runs.
class ThreadPool {
public:
    /// @param threads team size including the calling thread (>= 1).
    explicit ThreadPool(std::size_t threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    std::size_t size() const { return size_; }
    void run(const std::function<void(std::size_t)>& fn);
    /// @brief Waits for all members; false when the run is being abandoned after an exception.
    bool barrier();

private:
    void worker(std::size_t t);
    void execute(std::size_t t);

    std::size_t size_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable start_cv_, done_cv_;
    const std::function<void(std::size_t)>* job_ = nullptr;
    std::size_t generation_ = 0;
    std::size_t running_ = 0;
    bool stop_ = false;
    std::exception_ptr error_;
    std::atomic<bool> abort_{false};
    // Sense-reversing barrier.
    std::atomic<std::size_t> arrived_{0};
    std::atomic<std::size_t> phase_{0};
};

/// @brief [first, last) of part `t` of `n` items split into `parts` nearly equal pieces.
inline std::pair<std::size_t, std::size_t> split_range(std::size_t n, std::size_t parts,
                                                       std::size_t t) {
    return {n * t / parts, n * (t + 1) / parts};
}

}  // namespace dbn
