#pragma once

// Writing an output file safely: the temporary name a writer uses beside its target, the
// cleanup of temporaries that killed runs left behind, writing bytes with every error reported,
// and the lock that keeps two processes from writing the same output at once.

#include <cstddef>
#include <string>
#include <vector>

namespace dbn {

/// @brief `<target>.tmp.<pid>`: where this process writes `target` before renaming it over.
std::string temp_path(const std::string& target);

/// @brief Temporary files of `target` (`<target>.tmp.<pid>` in its folder) left by other
/// processes: those of dead processes are removed, those of live ones are kept and returned
/// (a live process may be writing `target` right now). This process's own is never touched.
std::vector<std::string> remove_stale_temp_files(const std::string& target);

/// @brief Creates (truncating) `path`, writes `size` bytes, fsyncs and closes it.
/// @throws IoError "<path>: cannot write (No space left on device)" and the like; the partial
/// file is left for the caller to remove.
void write_file_synced(const std::string& path, const char* data, std::size_t size);

/// @brief Writes `size` bytes as `target`: into temp_path(target), synced, then renamed over
/// `target`, so that `target` is either its old self or the whole new file.
/// @throws IoError "<target>: cannot write <what>: ..." naming the cause; the temporary file
/// is removed.
void replace_file(const std::string& target, const char* data, std::size_t size,
                  const std::string& what);

/// @brief Forces an existing, closed file's bytes to disk.
/// @throws IoError naming the path.
void sync_file(const std::string& path);

/// @brief An exclusive lock on writing `target`, held by this process from construction to
/// destruction: an flock(2) on `<target>.lock`, which holds the owner's pid and is removed by
/// the destructor. The kernel drops the lock when its owner dies, so a lock file left by a
/// killed run does not block the next one.
class OutputLock {
public:
    /// @throws IoError "<target>: another process (pid N) is writing it (lock <target>.lock)"
    /// when a live process holds the lock, or when the lock file cannot be created.
    explicit OutputLock(const std::string& target);
    OutputLock(const OutputLock&) = delete;
    OutputLock& operator=(const OutputLock&) = delete;
    ~OutputLock();

    const std::string& lock_path() const { return lock_; }

private:
    std::string lock_;
    int fd_ = -1;
};

}  // namespace dbn
