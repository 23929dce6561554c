// The picture writers of a build without cairo (DBN_PICTURES off): they refuse.
#include <string>

#include "dbn/core/error.hpp"
#include "dbn/picture/chart.hpp"
#include "dbn/picture/png.hpp"

namespace dbn::picture {

bool pictures_available() { return false; }

std::string picture_library() {
    return "this dbn was built without pictures (CMake did not find cairo: install "
           "libcairo2-dev, or run scripts/setup.sh, and build again)";
}

void write_png(const std::string& path, const GrayImage&) {
    throw ConfigError(path + ": " + picture_library());
}

std::string png_bytes(const GrayImage&, const std::string& what) {
    throw ConfigError(what + ": " + picture_library());
}

std::string charts_png_bytes(const std::vector<Chart>&, std::size_t, const std::string& what) {
    throw ConfigError(what + ": " + picture_library());
}

void write_charts(const std::string& path, const std::vector<Chart>&, std::size_t) {
    throw ConfigError(path + ": " + picture_library());
}

}  // namespace dbn::picture
