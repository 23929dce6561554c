#include "dbn/data/bars_stripes.hpp"

#include "dbn/core/error.hpp"

namespace dbn::data {

Matrix bars_and_stripes(std::size_t n) {
    // n = 10 already gives 2046 images of 100 pixels; beyond that the set is no longer "small"
    // enough for the exact-likelihood tests it exists for, and the shift below would overflow
    // soon after.
    DBN_CHECK(n >= 1 && n <= 10, ConfigError,
              "bars_and_stripes: size must be between 1 and 10 (got " << n << ")");
    const std::size_t states = std::size_t{1} << n;
    const std::size_t count = 2 * states - 2;
    Matrix x = Matrix::from_shape({count, n * n});
    x.fill(0.0f);
    std::size_t r = 0;
    // Stripes: bit i of `mask` switches row i on. Every mask, all-off and all-on included.
    for (std::size_t mask = 0; mask < states; ++mask, ++r)
        for (std::size_t i = 0; i < n; ++i)
            if ((mask >> i) & 1U)
                for (std::size_t j = 0; j < n; ++j) x(r, i * n + j) = 1.0f;
    // Bars: bit j switches column j on; all-off and all-on were listed with the stripes.
    for (std::size_t mask = 1; mask + 1 < states; ++mask, ++r)
        for (std::size_t j = 0; j < n; ++j)
            if ((mask >> j) & 1U)
                for (std::size_t i = 0; i < n; ++i) x(r, i * n + j) = 1.0f;
    DBN_ASSERT(r == count);
    return x;
}

}  // namespace dbn::data
