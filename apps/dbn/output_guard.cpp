#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "dbn/core/output_file.hpp"

namespace dbn::cli {

std::unique_ptr<OutputLock> guard_output(const std::string& out) {
    namespace fs = std::filesystem;
    std::error_code ec;
    // A missing folder or an output that is a folder is the command's own error to report.
    if (!fs::is_directory(fs::absolute(out).parent_path(), ec) || fs::is_directory(out, ec))
        return nullptr;
    auto lock = std::make_unique<OutputLock>(out);
    for (const std::string& tmp : remove_stale_temp_files(out))
        std::cerr << "dbn: warning: " << tmp
                  << " belongs to a running process; left alone (remove it once that process "
                     "has ended)"
                  << std::endl;
    return lock;
}

}  // namespace dbn::cli
