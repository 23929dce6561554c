#pragma once

// Decodes a PNG file with libpng's simplified API (png_image: no setjmp in this code) into 8-bit
// RGB, for the picture tests.

#include <png.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace dbn::picture::testing {

struct Decoded {
    bool ok = false;
    std::string error;
    std::size_t width = 0, height = 0;
    std::vector<std::uint8_t> rgb;  ///< height x width x 3
    std::uint8_t r(std::size_t row, std::size_t col) const { return rgb[3 * (row * width + col)]; }
    /// @brief True when every pixel has R = G = B.
    bool gray() const {
        for (std::size_t i = 0; i + 2 < rgb.size(); i += 3)
            if (rgb[i] != rgb[i + 1] || rgb[i] != rgb[i + 2]) return false;
        return true;
    }
    /// @brief Variance of the red channel over all pixels.
    double variance() const {
        double s = 0, s2 = 0;
        const double n = static_cast<double>(width * height);
        for (std::size_t i = 0; i < rgb.size(); i += 3) {
            s += rgb[i];
            s2 += static_cast<double>(rgb[i]) * rgb[i];
        }
        return n > 0 ? s2 / n - (s / n) * (s / n) : 0.0;
    }
};

inline Decoded read_png(const std::string& path) {
    Decoded d;
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (png_image_begin_read_from_file(&image, path.c_str()) == 0) {
        d.error = image.message;
        return d;
    }
    image.format = PNG_FORMAT_RGB;
    d.width = image.width;
    d.height = image.height;
    d.rgb.resize(PNG_IMAGE_SIZE(image));
    if (png_image_finish_read(&image, nullptr, d.rgb.data(), 0, nullptr) == 0) {
        d.error = image.message;
        png_image_free(&image);
        return d;
    }
    d.ok = true;
    return d;
}

}  // namespace dbn::picture::testing
