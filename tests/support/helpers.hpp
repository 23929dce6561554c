#pragma once

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/rbm/rbm.hpp"

namespace dbn::testing {

/// @brief Every binary vector of length n, one per row, in counting order (2^n x n).
inline Matrix all_binary_states(std::size_t n) {
    const std::size_t count = std::size_t{1} << n;
    Matrix s = Matrix::from_shape({count, n});
    for (std::size_t r = 0; r < count; ++r)
        for (std::size_t k = 0; k < n; ++k) s(r, k) = static_cast<Real>((r >> k) & 1U);
    return s;
}

/// @brief n x d values 0/1, each 1 with probability 0.4, seeded.
inline Matrix random_binary(std::size_t n, std::size_t d, std::uint64_t seed) {
    Rng rng{seed};
    Matrix p = Matrix::from_shape({n, d});
    p.fill(0.4f);
    Matrix m = Matrix::from_shape({n, d});
    rng.bernoulli(p.data(), m.data(), m.size());
    return m;
}

/// @brief A small RBM with weights and biases drawn from N(0, scale^2).
inline Rbm random_rbm(std::size_t nv, std::size_t nh, Rng& rng, float scale = 1.0f,
                      UnitType visible = UnitType::bernoulli,
                      UnitType hidden = UnitType::bernoulli) {
    Rbm rbm(nv, nh, visible, hidden);
    rng.fill_normal(rbm.weights().data(), rbm.weights().size());
    rng.fill_normal(rbm.visible_bias().data(), nv);
    rng.fill_normal(rbm.hidden_bias().data(), nh);
    rbm.weights() *= scale;
    rbm.visible_bias() *= scale;
    rbm.hidden_bias() *= scale;
    return rbm;
}

/// @brief |a - b| <= atol + rtol * |b| for every element, with the first failure reported.
template <class A, class B>
::testing::AssertionResult allclose(const A& a, const B& b, double rtol, double atol) {
    if (a.size() != b.size())
        return ::testing::AssertionFailure() << "sizes differ: " << a.size() << " vs " << b.size();
    auto ia = a.begin();
    auto ib = b.begin();
    for (std::size_t i = 0; ia != a.end(); ++ia, ++ib, ++i) {
        const double x = *ia;
        const double y = *ib;
        if (!(std::abs(x - y) <= atol + rtol * std::abs(y)))
            return ::testing::AssertionFailure() << "element " << i << ": " << x << " vs " << y
                                                 << " (rtol " << rtol << ", atol " << atol << ")";
    }
    return ::testing::AssertionSuccess();
}

/// @brief A path under the build tree's scratch folder for test outputs; the folder is made
/// here, so that a test run alone (ctest -R) in a fresh build does not depend on another test
/// having made it.
inline std::string temp_path(const std::string& name) {
    const std::string dir = std::string(DBN_BINARY_DIR) + "/test_output";
    std::filesystem::create_directories(dir);
    return dir + "/" + name;
}

}  // namespace dbn::testing
