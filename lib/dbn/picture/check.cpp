#include <string>

#include "dbn/core/error.hpp"
#include "dbn/picture/png.hpp"

namespace dbn::picture {

void check_png_output(const std::string& path, const std::string& flag) {
    const bool png = path.size() >= 4 && path.compare(path.size() - 4, 4, ".png") == 0;
    DBN_CHECK(png, ConfigError, flag << " " << path << ": unknown extension (expected .png)");
    DBN_CHECK(pictures_available(), ConfigError, flag << " " << path << ": " << picture_library());
}

}  // namespace dbn::picture
