#include "dbn/core/files.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>

#include "dbn/core/error.hpp"

namespace dbn {
namespace fs = std::filesystem;

bool same_file(const std::string& a, const std::string& b) {
    if (a.empty() || b.empty()) return false;
    struct stat sa {};
    struct stat sb {};
    if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    std::error_code ea, eb;
    const fs::path pa = fs::weakly_canonical(fs::absolute(a, ea), ea).lexically_normal();
    const fs::path pb = fs::weakly_canonical(fs::absolute(b, eb), eb).lexically_normal();
    if (ea || eb) return fs::path(a).lexically_normal() == fs::path(b).lexically_normal();
    return pa == pb;
}

void check_output(const std::string& path, const std::string& flag, const std::string& what,
                  const std::vector<NamedInput>& inputs) {
    DBN_CHECK(!path.empty(), ConfigError, flag << ": an empty path names no file");
    std::error_code ec;
    const auto parent = fs::absolute(path, ec).parent_path();
    DBN_CHECK(
        !ec && fs::is_directory(parent, ec), IoError,
        path << ": cannot write " << what << ": folder " << parent.string() << " does not exist");
    DBN_CHECK(!fs::is_directory(path, ec), IoError,
              path << ": cannot write " << what << ": it is a folder");
    for (const NamedInput& in : inputs) {
        DBN_CHECK(!same_file(path, in.path), ConfigError,
                  flag << " " << path << " is the same file as " << in.flag << " " << in.path
                       << ": writing " << what << " there would destroy that input");
    }
}

}  // namespace dbn
