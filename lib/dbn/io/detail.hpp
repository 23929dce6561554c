#pragma once

// Internal to the io module (model_io.cpp, model_reader.cpp): not part of the API.

#include <cmath>
#include <cstddef>

namespace dbn::io::detail {

/// @brief Index of the first non-finite element, or `size` when all are finite.
template <class It>
std::size_t first_non_finite(It first, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i, ++first) {
        if (!std::isfinite(*first)) return i;
    }
    return size;
}

}  // namespace dbn::io::detail
