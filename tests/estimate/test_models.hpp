#pragma once

// Models with realistic weights for the estimator tests, made in milliseconds: a tiny CD-1
// loop (the library has no trainer yet that these tests could rely on) run on bars-and-stripes
// or on synthetic 28 x 28 stroke images. Trained weights are what makes AIS hard: they are
// large and correlated, so the target is far from the base-rate model and multimodal, unlike
// a random N(0, 0.01^2) RBM that sits next to it.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "dbn/core/blas.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/rbm/rbm.hpp"

namespace dbn::testing {

/// @brief The 2^(n+1) - 2 distinct n x n bars-and-stripes images, one per row (MacKay 2003).
inline Matrix bars_and_stripes(std::size_t n) {
    std::vector<std::vector<Real>> rows;
    for (std::size_t mask = 0; mask < (std::size_t{1} << n); ++mask) {
        for (int vertical = 0; vertical < 2; ++vertical) {
            // All-off and all-on arise as both bars and stripes: keep them once.
            if (vertical == 1 && (mask == 0 || mask == (std::size_t{1} << n) - 1)) continue;
            std::vector<Real> img(n * n);
            for (std::size_t r = 0; r < n; ++r)
                for (std::size_t c = 0; c < n; ++c)
                    img[r * n + c] = static_cast<Real>((mask >> (vertical ? c : r)) & 1U);
            rows.push_back(img);
        }
    }
    Matrix m = Matrix::from_shape({rows.size(), n * n});
    for (std::size_t r = 0; r < rows.size(); ++r)
        std::copy(rows[r].begin(), rows[r].end(), &m(r, 0));
    return m;
}

/// @brief `count` binary 28 x 28 images: each is one of 10 prototypes (2 to 4 thick random
/// strokes), shifted by up to 2 pixels, with 2% of the pixels flipped. Digit-like statistics
/// (sparse, locally correlated, a border holding only the noise) without a data file.
inline Matrix stroke_images(std::size_t count, Rng& rng) {
    constexpr std::size_t side = 28;
    constexpr std::size_t prototypes = 10;
    std::vector<std::vector<Real>> proto(prototypes, std::vector<Real>(side * side, 0.0f));
    for (auto& p : proto) {
        const std::size_t strokes = 2 + rng.below(3);
        for (std::size_t s = 0; s < strokes; ++s) {
            const double x0 = 6 + rng.uniform() * 16, y0 = 6 + rng.uniform() * 16;
            const double x1 = 6 + rng.uniform() * 16, y1 = 6 + rng.uniform() * 16;
            for (int t = 0; t <= 60; ++t) {
                const double x = x0 + (x1 - x0) * t / 60.0, y = y0 + (y1 - y0) * t / 60.0;
                for (int dy = -1; dy <= 1; ++dy)
                    for (int dx = -1; dx <= 1; ++dx)
                        p[static_cast<std::size_t>(y + dy) * side +
                          static_cast<std::size_t>(x + dx)] = 1.0f;
            }
        }
    }
    Matrix images = Matrix::from_shape({count, side * side});
    for (std::size_t n = 0; n < count; ++n) {
        const auto& p = proto[rng.below(prototypes)];
        const int sx = static_cast<int>(rng.below(5)) - 2, sy = static_cast<int>(rng.below(5)) - 2;
        for (int y = 0; y < int(side); ++y) {
            for (int x = 0; x < int(side); ++x) {
                const int px = x - sx, py = y - sy;
                Real v = 0.0f;
                if (px >= 0 && py >= 0 && px < int(side) && py < int(side)) v = p[py * side + px];
                if (rng.uniform() < 0.02f) v = 1.0f - v;
                images(n, y * side + x) = v;
            }
        }
    }
    return images;
}

/// @brief `updates` CD-1 steps with minibatches of `batch` random rows: positive statistics
/// from p(h|v0), negative from p(h|v1) with v1 the mean-field reconstruction of sampled h0
/// (docs/MATH.md#training, without momentum or decay). Visible biases start at the log base rates
/// (Bernoulli units) or the data mean (Gaussian units), as Hinton's practical guide advises.
inline void train_cd1(Rbm& rbm, const Matrix& data, std::size_t updates, std::size_t batch,
                      float lr, Rng& rng) {
    const std::size_t nv = rbm.n_visible(), nh = rbm.n_hidden();
    for (std::size_t i = 0; i < nv; ++i) {
        double mean = 0.0;
        for (std::size_t r = 0; r < data.shape(0); ++r) mean += data(r, i);
        mean /= static_cast<double>(data.shape(0));
        if (rbm.visible_type() == UnitType::gaussian) {
            rbm.visible_bias()(i) = static_cast<Real>(mean);
        } else {
            const double p = std::clamp(mean, 0.01, 0.99);
            rbm.visible_bias()(i) = static_cast<Real>(std::log(p / (1.0 - p)));
        }
    }
    Matrix v0 = Matrix::from_shape({batch, nv}), v1 = Matrix::from_shape({batch, nv});
    Matrix h0p = Matrix::from_shape({batch, nh}), h0 = Matrix::from_shape({batch, nh});
    Matrix h1p = Matrix::from_shape({batch, nh});
    for (std::size_t u = 0; u < updates; ++u) {
        for (std::size_t r = 0; r < batch; ++r) {
            const std::size_t pick = rng.below(data.shape(0));
            std::copy(&data(pick, 0), &data(pick, 0) + nv, &v0(r, 0));
        }
        rbm.hidden_probabilities(v0, h0p);
        rng.bernoulli(h0p.data(), h0.data(), h0.size());
        rbm.visible_mean(h0, v1);
        rbm.hidden_probabilities(v1, h1p);
        const float step = lr / static_cast<float>(batch);
        blas::gemm(true, false, step, v0, h0p, 1.0f, rbm.weights());
        blas::gemm(true, false, -step, v1, h1p, 1.0f, rbm.weights());
        for (std::size_t r = 0; r < batch; ++r) {
            for (std::size_t i = 0; i < nv; ++i)
                rbm.visible_bias()(i) += step * (v0(r, i) - v1(r, i));
            for (std::size_t j = 0; j < nh; ++j)
                rbm.hidden_bias()(j) += step * (h0p(r, j) - h1p(r, j));
        }
    }
}

/// @brief Largest |w| of the weights, to report how far from the base model a target lies.
inline float max_abs_weight(const Rbm& rbm) {
    float m = 0.0f;
    for (float w : rbm.weights()) m = std::max(m, std::abs(w));
    return m;
}

}  // namespace dbn::testing
