#pragma once

// Checks of the paths a command is given, before it reads or writes anything (docs/CONFIG.md,
// "Command lines"): an output must be writable where it is and must not be one of the inputs.

#include <string>
#include <utility>
#include <vector>

namespace dbn {

/// @brief True when `a` and `b` are the same file: by device and inode when both exist (so a
/// symbolic or hard link to a file is that file), else by their normalized absolute paths.
bool same_file(const std::string& a, const std::string& b);

/// @brief An input of a command for check_output(): the flag that gave it and its file.
struct NamedInput {
    std::string flag;  ///< e.g. "--data", or "the model" for a positional argument
    std::string path;
};

/// @brief Refuses an output path before any work: empty, a folder, in a folder that does not
/// exist, or the same file as one of `inputs` (writing it would destroy that input).
/// @param flag the option that gave it ("--out"); @param what what is written ("the model").
/// @throws IoError for the folder problems, ConfigError for an empty path or an input.
void check_output(const std::string& path, const std::string& flag, const std::string& what,
                  const std::vector<NamedInput>& inputs);

}  // namespace dbn
