// A read of an HDF5 file in a forked child first, so that the HDF5 library's crashes on damaged
// files end the child (see trial_read.hpp).
#include "dbn/hdf5/trial_read.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "dbn/core/error.hpp"

namespace dbn::hdf5 {
namespace {

/// Seconds the trial read in the child may take before it counts as hung on a damaged file.
constexpr unsigned k_trial_seconds = 600;

/// CPU seconds the trial read may use: 1 s, and 1 s more per MiB of file. Reading takes about
/// a millisecond of CPU per megabyte (a compressed file more, up to deflate's limit of ~1000
/// bytes per stored byte), so this leaves a wide margin, while a damaged heap that makes HDF5
/// spin (H5HG_read, fuzz_model) is stopped after a second of CPU rather than after
/// k_trial_seconds of wall time.
rlim_t trial_cpu_seconds(const std::string& path) {
    struct stat st {};
    const std::uint64_t size = ::stat(path.c_str(), &st) == 0 ? std::uint64_t(st.st_size) : 0;
    return static_cast<rlim_t>(1 + size / (std::uint64_t{1} << 20));
}

/// Exit statuses of the child: the read finished, or ended in a documented error or another
/// exception, which the caller's own read then reports. Any other end (a signal, or an exit
/// status of something else, such as a sanitizer's report) means the read went wrong inside a
/// library.
constexpr int k_trial_read = 0;
constexpr int k_trial_refused = 3;
constexpr int k_trial_exception = 4;

}  // namespace

void trial_read(const std::string& path, const std::function<void()>& read) {
    const rlim_t cpu = trial_cpu_seconds(path);
    std::fflush(nullptr);  // the child leaves by _exit, but keep the buffers out of it anyway
    const pid_t pid = ::fork();
    if (pid < 0) return;  // no process to spare: the caller's read runs unguarded
    if (pid == 0) {
        const struct rlimit no_core = {0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);  // a crash here is expected, not worth a core file
        const struct rlimit cpu_limit = {cpu, cpu + 1};
        ::setrlimit(RLIMIT_CPU, &cpu_limit);
        for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGXCPU, SIGALRM})
            std::signal(sig, SIG_DFL);
        const int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) {
            ::dup2(null, STDOUT_FILENO);
            ::dup2(null, STDERR_FILENO);
        }
        ::alarm(k_trial_seconds);
        int status = k_trial_read;
        try {
            read();
        } catch (const Error&) {
            status = k_trial_refused;
        } catch (...) {
            status = k_trial_exception;
        }
        ::_exit(status);
    }
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) return;
    }
    if (WIFEXITED(st)) {
        const int code = WEXITSTATUS(st);
        if (code == k_trial_read || code == k_trial_refused || code == k_trial_exception) return;
        throw FormatError(path + ": the file is damaged (reading it failed inside a library: " +
                          "the trial read in a child process ended with status " +
                          std::to_string(code) + ")");
    }
    if (!WIFSIGNALED(st)) return;
    const int sig = WTERMSIG(st);
    if (sig == SIGALRM)
        throw FormatError(path + ": the file is damaged (reading it did not finish in " +
                          std::to_string(k_trial_seconds) + " s)");
    if (sig == SIGXCPU)
        throw FormatError(path + ": the file is damaged (reading it used more than " +
                          std::to_string(cpu) + " s of CPU time)");
    const char* name = ::strsignal(sig);
    throw FormatError(path + ": the file is damaged (reading it crashed the HDF5 library: " +
                      (name != nullptr ? name : "signal " + std::to_string(sig)) + ")");
}

}  // namespace dbn::hdf5
