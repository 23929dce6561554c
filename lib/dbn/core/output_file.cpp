#include "dbn/core/output_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "dbn/core/error.hpp"

namespace dbn {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

/// @brief Whether process `pid` exists (EPERM: it does, owned by someone else).
bool process_alive(long pid) {
    if (pid <= 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

/// @brief The pid of `name` if it is `<prefix><digits>`, else -1.
long temp_pid(const std::string& name, const std::string& prefix) {
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return -1;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::strtol(digits.c_str(), nullptr, 10);
}

}  // namespace

std::string temp_path(const std::string& target) {
    return target + ".tmp." + std::to_string(::getpid());
}

std::vector<std::string> remove_stale_temp_files(const std::string& target) {
    std::vector<std::string> live;
    const fs::path t(target);
    const fs::path dir = t.has_parent_path() ? t.parent_path() : fs::path(".");
    const std::string prefix = t.filename().string() + ".tmp.";
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return live;  // the caller reports a missing or unreadable folder itself
    for (const fs::directory_entry& entry : it) {
        const std::string name = entry.path().filename().string();
        const long pid = temp_pid(name, prefix);
        if (pid < 0 || pid == ::getpid()) continue;
        const std::string path = (t.has_parent_path() ? dir / name : fs::path(name)).string();
        if (process_alive(pid)) {
            live.push_back(path);
        } else {
            std::error_code ignored;
            fs::remove(path, ignored);
        }
    }
    return live;
}

void write_file_synced(const std::string& path, const char* data, std::size_t size) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    DBN_CHECK(fd >= 0, IoError, path << ": cannot create (" << errno_text(errno) << ")");
    std::size_t done = 0;
    int err = 0;
    while (done < size) {
        const ssize_t n = ::write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            err = n < 0 ? errno : ENOSPC;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && err == 0) err = errno;
    DBN_CHECK(err == 0, IoError,
              path << ": cannot write (" << errno_text(err) << ") after " << done << " of " << size
                   << " bytes");
}

void replace_file(const std::string& target, const char* data, std::size_t size,
                  const std::string& what) {
    const std::string tmp = temp_path(target);
    try {
        write_file_synced(tmp, data, size);
        std::error_code ec;
        fs::rename(tmp, target, ec);
        DBN_CHECK(!ec, IoError,
                  target << ": cannot write " << what << ": renaming " << tmp << " over it failed ("
                         << ec.message() << ")");
    } catch (const IoError& e) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        const std::string m = e.what();
        if (m.rfind(target + ":", 0) == 0) throw;
        throw IoError(target + ": cannot write " + what + ": " + m);
    }
}

void sync_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    DBN_CHECK(fd >= 0, IoError, path << ": cannot reopen to sync (" << errno_text(errno) << ")");
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    DBN_CHECK(rc == 0, IoError, path << ": cannot sync to disk (" << errno_text(err) << ")");
}

OutputLock::OutputLock(const std::string& target) : lock_(target + ".lock") {
    // A previous owner removes the file while it still holds the lock, so an flock won on a
    // file that is no longer at lock_ is worthless: then open the new one and try again.
    for (int attempt = 0; attempt < 8; ++attempt) {
        const int fd = ::open(lock_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        DBN_CHECK(fd >= 0, IoError,
                  target << ": cannot create the lock file " << lock_ << " (" << errno_text(errno)
                         << ")");
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            char text[32] = {};
            const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
            ::close(fd);
            const long pid = n > 0 ? std::strtol(text, nullptr, 10) : 0;
            DBN_CHECK(err != EWOULDBLOCK, IoError,
                      target << ": another process"
                             << (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string())
                             << " is writing it (lock file " << lock_
                             << "); wait for it to finish or choose another output");
            DBN_CHECK(false, IoError,
                      target << ": cannot lock " << lock_ << " (" << errno_text(err) << ")");
        }
        struct stat held {};
        struct stat named {};
        if (::fstat(fd, &held) == 0 && ::stat(lock_.c_str(), &named) == 0 &&
            held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
            const std::string pid = std::to_string(::getpid()) + "\n";
            if (::ftruncate(fd, 0) == 0) {
                [[maybe_unused]] const ssize_t w = ::pwrite(fd, pid.data(), pid.size(), 0);
            }
            fd_ = fd;
            return;
        }
        ::close(fd);
    }
    DBN_CHECK(false, IoError, target << ": cannot lock " << lock_ << " (it keeps being replaced)");
}

OutputLock::~OutputLock() {
    if (fd_ < 0) return;
    ::unlink(lock_.c_str());  // while still holding the lock: see the constructor
    ::close(fd_);
}

}  // namespace dbn
