#pragma once

// Gray pictures of image-shaped rows: a grid of tiles, one per row of a matrix (docs/CLI.md,
// "dbn show" and "dbn sample"). Pure arithmetic; png.hpp writes the result.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dbn/core/types.hpp"

namespace dbn::picture {

/// @brief An 8-bit gray picture, row-major, height x width.
struct GrayImage {
    std::size_t width = 0;
    std::size_t height = 0;
    std::vector<std::uint8_t> pixels;
    std::uint8_t at(std::size_t row, std::size_t column) const {
        return pixels[row * width + column];
    }
};

/// @brief The height and width of one tile (a sample of image-shaped data).
struct TileShape {
    std::size_t height = 0;
    std::size_t width = 0;
    std::size_t size() const { return height * width; }
};

/// @brief How tile values become gray levels.
struct GrayScale {
    /// Unset: every tile is stretched to its own minimum (black) and maximum (white). Set: one
    /// range for all tiles, `low` black and `high` white, values outside clipped.
    std::optional<double> low, high;
    static GrayScale per_tile() { return {}; }
    static GrayScale fixed(double lo, double hi) { return {lo, hi}; }
};

/// The gray level of the 1-pixel gaps between tiles and of the unused cells of the last row.
constexpr std::uint8_t gap_gray = 128;

/// The largest picture side written (cairo's limit is 32767).
constexpr std::size_t max_side = 32767;

/// @brief Columns of a square-ish grid of `count` tiles: ceil(sqrt(count)).
std::size_t square_columns(std::size_t count);

/// @brief The rows of `tiles` ([n, shape.size()], row-major h x w each) as a grid of `columns`
/// tiles per row (0: square_columns(n)), filled row by row, with 1-pixel gaps of gap_gray
/// between tiles: width = columns (w + 1) - 1, height = rows (h + 1) - 1. A pixel is
/// round(255 (x - lo) / (hi - lo)) clipped to [0, 255], with lo and hi from `scale`; a constant
/// tile under the per-tile scale is mid-gray (128). Non-finite values are drawn black.
/// @throws ShapeError when `tiles` has no rows or its columns are not shape.size();
/// ConfigError when a side of the picture would exceed max_side.
GrayImage tile_grid(const Matrix& tiles, TileShape shape, std::size_t columns = 0,
                    GrayScale scale = GrayScale::per_tile());

/// @brief Parses "HxW" (digits, 'x', digits; both at least 1).
/// @throws ConfigError naming `flag` and the text.
TileShape parse_shape(const std::string& text, const std::string& flag = "--shape");

/// @brief The tile shape of `n_values`-value rows: the file's `sample_shape` (when given and,
/// without its dimensions of 1, a height and a width; a flag that disagrees is refused), else
/// `flag_shape`, else the square side when `n_values` is a perfect square. A sample_shape of
/// more dimensions (colour channels, volumes) needs the flag.
/// @throws ConfigError (naming `model` or the flag) when the shape does not give `n_values`
/// pixels or none can be chosen (the message asks for --shape).
TileShape choose_shape(const std::optional<std::vector<std::int64_t>>& sample_shape,
                       const std::optional<std::string>& flag_shape, std::size_t n_values,
                       const std::string& model);

}  // namespace dbn::picture
