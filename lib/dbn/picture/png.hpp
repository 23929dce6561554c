#pragma once

// PNG files of pictures, written with cairo through a temporary name (docs/CLI.md). A build
// without cairo (DBN_PICTURES off) has these functions too: they refuse with ConfigError.

#include <string>

#include "dbn/picture/image.hpp"

namespace dbn::picture {

/// @brief Whether this build can write pictures (it found cairo: DBN_PICTURES).
bool pictures_available();

/// @brief "cairo 1.16.0", or why pictures are not available.
std::string picture_library();

/// @brief Refuses, before any work, an output name that does not end in ".png" and a build
/// without pictures.
/// @throws ConfigError naming `flag` and `path`.
void check_png_output(const std::string& path, const std::string& flag = "--out");

/// @brief `image` encoded as an 8-bit RGB PNG (gray: R = G = B), in memory: the bytes of the
/// file write_png writes (the report embeds them). `what` names the picture in errors.
/// @throws ShapeError, IoError naming `what`; ConfigError when pictures are not available.
std::string png_bytes(const GrayImage& image, const std::string& what);

/// @brief Writes `image` as an 8-bit RGB PNG (gray: R = G = B) to a temporary file beside
/// `path`, synced and renamed over it; the temporary is removed on any error.
/// @throws IoError naming `path`; ConfigError when pictures are not available.
void write_png(const std::string& path, const GrayImage& image);

}  // namespace dbn::picture
