#include "dbn/picture/image.hpp"

#include <algorithm>
#include <cmath>

#include "dbn/core/error.hpp"

namespace dbn::picture {

std::size_t square_columns(std::size_t count) {
    std::size_t c = 1;
    while (c * c < count) ++c;
    return c;
}

namespace {

std::uint8_t gray(double x, double lo, double hi) {
    if (!std::isfinite(x)) return 0;
    const double v = std::round(255.0 * (x - lo) / (hi - lo));
    return static_cast<std::uint8_t>(std::clamp(v, 0.0, 255.0));
}

}  // namespace

GrayImage tile_grid(const Matrix& tiles, TileShape shape, std::size_t columns, GrayScale scale) {
    const std::size_t n = tiles.shape(0);
    const std::size_t h = shape.height, w = shape.width;
    DBN_CHECK(
        n > 0 && h > 0 && w > 0 && tiles.shape(1) == h * w, ShapeError,
        n << " tiles of " << tiles.shape(1) << " values cannot be drawn as " << h << "x" << w);
    DBN_CHECK(!scale.low || (scale.high && *scale.high > *scale.low), ShapeError,
              "gray scale: the high end must exceed the low end");
    if (columns == 0) columns = square_columns(n);
    columns = std::min(columns, n);
    const std::size_t rows = (n + columns - 1) / columns;
    DBN_CHECK(columns <= (max_side + 1) / (w + 1) && rows <= (max_side + 1) / (h + 1), ConfigError,
              "a grid of " << rows << " x " << columns << " tiles of " << h << "x" << w
                           << " pixels exceeds " << max_side
                           << " pixels a side: draw fewer tiles (--count)");
    GrayImage image;
    image.width = columns * (w + 1) - 1;
    image.height = rows * (h + 1) - 1;
    image.pixels.assign(image.width * image.height, gap_gray);
    for (std::size_t t = 0; t < n; ++t) {
        const float* x = &tiles(t, 0);
        double lo = 0, hi = 1;
        bool constant = false;
        if (scale.low) {
            lo = *scale.low;
            hi = *scale.high;
        } else {
            bool any = false;
            for (std::size_t i = 0; i < h * w; ++i) {
                if (!std::isfinite(x[i])) continue;
                lo = any ? std::min(lo, static_cast<double>(x[i])) : x[i];
                hi = any ? std::max(hi, static_cast<double>(x[i])) : x[i];
                any = true;
            }
            constant = !(hi > lo);
        }
        const std::size_t top = (t / columns) * (h + 1);
        const std::size_t left = (t % columns) * (w + 1);
        for (std::size_t r = 0; r < h; ++r)
            for (std::size_t c = 0; c < w; ++c) {
                const double v = x[r * w + c];
                image.pixels[(top + r) * image.width + left + c] = !std::isfinite(v) ? 0
                                                                   : constant        ? 128
                                                                              : gray(v, lo, hi);
            }
    }
    return image;
}

TileShape parse_shape(const std::string& text, const std::string& flag) {
    const std::size_t x = text.find('x');
    const bool ok = x != std::string::npos && x > 0 && x + 1 < text.size() && x <= 9 &&
                    text.size() - x - 1 <= 9 &&
                    text.find_first_not_of("0123456789x") == std::string::npos &&
                    text.find('x', x + 1) == std::string::npos;
    TileShape s;
    if (ok) {
        s.height = std::stoul(text.substr(0, x));
        s.width = std::stoul(text.substr(x + 1));
    }
    DBN_CHECK(ok && s.height > 0 && s.width > 0, ConfigError,
              flag << " " << quote_input(text) << ": expected HxW, e.g. 28x28");
    return s;
}

TileShape choose_shape(const std::optional<std::vector<std::int64_t>>& sample_shape,
                       const std::optional<std::string>& flag_shape, std::size_t n_values,
                       const std::string& model) {
    // Dimensions of 1 do not change a picture ([28, 28, 1] is 28 x 28); a shape that keeps more
    // than two (colour channels, volumes) or fewer is not drawn as one and leaves the choice to
    // --shape or the square.
    std::vector<std::int64_t> v;
    if (sample_shape)
        for (std::int64_t d : *sample_shape)
            if (d != 1) v.push_back(d);
    if (sample_shape && (v.size() == 2 || !flag_shape)) {
        DBN_CHECK(v.size() == 2 && v[0] > 0 && v[1] > 0 && v[0] <= 1000000 && v[1] <= 1000000,
                  ConfigError,
                  model << ": attribute \"sample_shape\" holds " << sample_shape->size()
                        << " values, not a height and a width (give the tile shape with --shape "
                           "HxW)");
        TileShape s{static_cast<std::size_t>(v[0]), static_cast<std::size_t>(v[1])};
        DBN_CHECK(s.size() == n_values, ConfigError,
                  model << ": attribute \"sample_shape\" [" << v[0] << ", " << v[1] << "] gives "
                        << s.size() << " pixels, the model has " << n_values << " visible units");
        if (flag_shape) {
            const TileShape f = parse_shape(*flag_shape);
            DBN_CHECK(f.height == s.height && f.width == s.width, ConfigError,
                      "--shape " << *flag_shape << " disagrees with the model's sample_shape "
                                 << s.height << "x" << s.width);
        }
        return s;
    }
    if (flag_shape) {
        const TileShape s = parse_shape(*flag_shape);
        DBN_CHECK(s.size() == n_values, ConfigError,
                  "--shape " << *flag_shape << ": " << s.size() << " pixels, the model has "
                             << n_values << " visible units");
        return s;
    }
    std::size_t r = 0;
    while ((r + 1) * (r + 1) <= n_values) ++r;
    DBN_CHECK(r > 0 && r * r == n_values, ConfigError,
              model << ": " << n_values
                    << " visible units are not a square and the file has no sample_shape: give "
                       "the picture's shape with --shape HxW");
    return {r, r};
}

}  // namespace dbn::picture
