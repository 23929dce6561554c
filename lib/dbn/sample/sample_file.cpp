#include "dbn/sample/sample_file.hpp"

#include <filesystem>
#include <system_error>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/hdf5/hdf5.hpp"

namespace dbn::sample {

void write_sample_file(const std::string& path, const Samples& samples,
                       const SampleFileInfo& info) {
    namespace fs = std::filesystem;
    remove_stale_temp_files(path);
    const std::string tmp = temp_path(path);
    try {
        {
            hdf5::File file = hdf5::File::create(tmp);
            file.write_string_attribute("format", "dbn-samples");
            file.write_uint_attribute("steps", info.steps);
            file.write_uint_attribute("seed", info.seed);
            file.write_string_attribute("model", info.model);
            file.write_string_attribute("from", info.from);
            const std::vector<std::size_t> shape = {samples.means.shape(0), samples.means.shape(1)};
            file.write_dataset<float>("samples", samples.means.data(), shape);
            if (samples.has_binary()) {
                std::vector<std::uint8_t> bits(samples.binary.size());
                for (std::size_t k = 0; k < bits.size(); ++k)
                    bits[k] = samples.binary.data()[k] > 0.5f ? 1 : 0;
                file.write_dataset<std::uint8_t>(
                    "binary", bits.data(), {samples.binary.shape(0), samples.binary.shape(1)});
            }
            file.close();
        }
        sync_file(tmp);
        std::error_code ec;
        fs::rename(tmp, path, ec);
        DBN_CHECK(!ec, IoError,
                  path << ": cannot write the samples: renaming " << tmp << " over it failed ("
                       << ec.message() << ")");
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
}

}  // namespace dbn::sample
