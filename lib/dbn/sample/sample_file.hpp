#pragma once

// The sample file of `dbn sample` (docs/FORMAT.md, "Sample files").

#include <cstddef>
#include <cstdint>
#include <string>

#include "dbn/sample/sampler.hpp"

namespace dbn::sample {

struct SampleFileInfo {
    std::size_t steps = 0;
    std::uint64_t seed = 0;
    std::string model;  ///< the model file the samples come from
    std::string from;   ///< the data SPEC the chains started from ("" for random states)
};

/// @brief Writes `samples` to `path` (float32 /samples [N, n_visible], uint8 /binary when there
/// are binary states; attributes format, steps, seed, model, from) through a temporary file
/// that is synced and renamed over `path`; on any error the temporary is removed.
/// @throws IoError naming `path`.
void write_sample_file(const std::string& path, const Samples& samples, const SampleFileInfo& info);

}  // namespace dbn::sample
