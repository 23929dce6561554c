#pragma once

#include <cstddef>

#include "dbn/core/types.hpp"

namespace dbn::data {

/// @brief Every distinct bars-and-stripes image of size n x n (MacKay 2003): each image has all
/// its rows or all its columns on or off independently; 2^(n+1) - 2 distinct patterns
/// (the all-off and all-on images arise both ways and are listed once).
/// Rows are flattened images (row-major), values 0 or 1.
Matrix bars_and_stripes(std::size_t n);

}  // namespace dbn::data
