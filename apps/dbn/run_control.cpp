#include "run_control.hpp"

#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <vector>

#include "dbn/core/error.hpp"

namespace dbn::cli {
namespace {

// The signal that asked training to stop (0: none). A second one ends the program at once.
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
    if (g_stop_signal != 0) _exit(128 + sig);  // async-signal-safe; touches no file
    g_stop_signal = sig;
}

std::uint64_t fnv_words(const std::uint32_t* p, std::size_t n, std::uint64_t h) {
    for (std::size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

}  // namespace

void install_stop_handlers() {
    g_stop_signal = 0;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

int stop_signal() { return static_cast<int>(g_stop_signal); }

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : "SIGTERM"; }

std::uint64_t hash_rows(const Matrix& x, std::uint64_t h) {
    static_assert(sizeof(Real) == sizeof(std::uint32_t), "rows are hashed as 32-bit words");
    return fnv_words(reinterpret_cast<const std::uint32_t*>(x.data()), x.size(), h);
}

std::uint64_t hash_labels(const Labels& y, std::uint64_t h) {
    static_assert(sizeof(y.data()[0]) == sizeof(std::uint32_t), "labels are 32-bit words");
    return fnv_words(reinterpret_cast<const std::uint32_t*>(y.data()), y.size(), h);
}

std::uint64_t hash_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    DBN_CHECK(in, IoError, path << ": cannot read it");
    std::uint64_t h = k_fnv_basis;
    std::vector<char> buf(1 << 16);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const auto got = static_cast<std::size_t>(in.gcount());
        for (std::size_t i = 0; i < got; ++i) {
            h ^= static_cast<unsigned char>(buf[i]);
            h *= 1099511628211ull;
        }
    }
    DBN_CHECK(in.eof(), IoError, path << ": read error");
    return h;
}

}  // namespace dbn::cli
