#include "dbn/sample/sampler.hpp"

#include <cmath>
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "support/helpers.hpp"

namespace dbn::sample {
namespace {

using testing::all_binary_states;
using testing::random_rbm;

std::size_t state_index(const Matrix& v, std::size_t r) {
    std::size_t index = 0;
    for (std::size_t i = 0; i < v.shape(1); ++i)
        if (v(r, i) > 0.5f) index |= std::size_t{1} << i;
    return index;
}

// The exact p(v) of a small RBM by enumeration of its visible states: exp(-F(v)) / Z.
std::vector<double> exact_distribution(const Rbm& rbm) {
    const Matrix vs = all_binary_states(rbm.n_visible());
    const DVector f = rbm.free_energy(vs);
    std::vector<double> neg(f.begin(), f.end());
    for (auto& x : neg) x = -x;
    const double log_z = logsumexp(neg.begin(), neg.end());
    std::vector<double> p(neg.size());
    for (std::size_t k = 0; k < p.size(); ++k) p[k] = std::exp(neg[k] - log_z);
    return p;
}

// 20,000 independent chains of 200 steps on a 6 x 4 RBM: their states against the exact p(v),
// by a chi-square test at p = 1e-3 (cells with an expected count below 5 pooled) and by the
// total-variation distance, below 3 sqrt(K / N) (K = 64 states, N = 20,000: 0.064).
TEST(Sampler, SingleRbmSamplesFollowTheExactDistribution) {
    Rng init(11);
    Dbn model;
    model.layers.push_back(random_rbm(6, 4, init, 0.8f));
    SampleOptions options;
    options.count = 20000;
    options.steps = 200;
    options.seed = 5;
    const Samples s = sample_model(model, options);
    ASSERT_TRUE(s.has_binary());
    ASSERT_EQ(s.binary.shape(0), 20000U);
    ASSERT_EQ(s.means.shape(1), 6U);

    const std::vector<double> p = exact_distribution(model.layers[0]);
    std::vector<double> counts(p.size(), 0.0);
    for (std::size_t r = 0; r < s.binary.shape(0); ++r) counts[state_index(s.binary, r)] += 1.0;
    const double n = static_cast<double>(options.count);

    double tv = 0.0;
    for (std::size_t k = 0; k < p.size(); ++k) tv += 0.5 * std::abs(counts[k] / n - p[k]);
    EXPECT_LT(tv, 3.0 * std::sqrt(static_cast<double>(p.size()) / n));

    double chi2 = 0.0, pooled_expected = 0.0, pooled_count = 0.0;
    std::size_t cells = 0;
    for (std::size_t k = 0; k < p.size(); ++k) {
        const double e = n * p[k];
        if (e < 5.0) {
            pooled_expected += e;
            pooled_count += counts[k];
            continue;
        }
        chi2 += (counts[k] - e) * (counts[k] - e) / e;
        ++cells;
    }
    if (pooled_expected > 0.0) {
        chi2 +=
            (pooled_count - pooled_expected) * (pooled_count - pooled_expected) / pooled_expected;
        ++cells;
    }
    // The chi-square quantile at 1 - 1e-3 (z = 3.09) by Wilson and Hilferty's approximation.
    const double df = static_cast<double>(cells - 1);
    const double a = 2.0 / (9.0 * df);
    const double critical = df * std::pow(1.0 - a + 3.09 * std::sqrt(a), 3.0);
    EXPECT_LT(chi2, critical) << "TV " << tv << ", " << cells << " cells";

    // The means are p(v|h) of the chains' last half step: their average is the model's E[v].
    for (std::size_t i = 0; i < 6; ++i) {
        double exact = 0.0, mean = 0.0;
        for (std::size_t k = 0; k < p.size(); ++k)
            if ((k >> i) & 1U) exact += p[k];
        for (std::size_t r = 0; r < s.means.shape(0); ++r) mean += s.means(r, i);
        EXPECT_NEAR(mean / n, exact, 0.02) << "unit " << i;
    }
}

TEST(Sampler, SameSeedSameSamplesOtherSeedOthers) {
    Rng init(3);
    Dbn model;
    model.layers.push_back(random_rbm(8, 5, init));
    model.layers.push_back(random_rbm(5, 3, init));
    SampleOptions options;
    options.count = 50;
    options.steps = 10;
    options.seed = 9;
    const Samples a = sample_model(model, options);
    const Samples b = sample_model(model, options);
    EXPECT_EQ(a.means.shape(0), 50U);
    EXPECT_EQ(a.means.shape(1), 8U);
    EXPECT_TRUE(a.means == b.means);
    EXPECT_TRUE(a.binary == b.binary);
    options.seed = 10;
    EXPECT_FALSE(sample_model(model, options).means == a.means);
}

TEST(Sampler, StartStatesAreUsedInTurnAndChecked) {
    Rng init(4);
    Dbn model;
    model.layers.push_back(random_rbm(6, 4, init));
    model.layers.push_back(random_rbm(4, 3, init));
    SampleOptions options;
    options.count = 5;
    options.steps = 0;
    Matrix start = Matrix::from_shape({2, 4});
    start.fill(1.0f);
    const Samples s = sample_model(model, options, &start);
    // With no steps the top states are the start, so every chain goes down the same way.
    for (std::size_t r = 1; r < 5; ++r)
        for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(s.means(r, i), s.means(0, i));
    Matrix wrong = Matrix::from_shape({2, 6});
    EXPECT_THROW(sample_model(model, options, &wrong), ShapeError);
}

TEST(Sampler, InvertPreprocessingUndoesStandardizeAndScale) {
    data::Preprocessing pre;
    pre.scale = 255.0f;
    pre.standardize = true;
    pre.mean = Vector({0.5f, 0.25f});
    pre.stddev = Vector({2.0f, 0.5f});
    Matrix x = {{1.0f, -1.0f}};
    invert_preprocessing(pre, x);
    EXPECT_FLOAT_EQ(x(0, 0), 255.0f * 2.5f);
    EXPECT_FLOAT_EQ(x(0, 1), 255.0f * -0.25f);
    pre.binarize = true;
    Matrix y = {{0.3f, 0.7f}};
    invert_preprocessing(pre, y);
    EXPECT_FLOAT_EQ(y(0, 1), 0.7f);
}

}  // namespace
}  // namespace dbn::sample

namespace dbn::sample {
namespace {

// The chain frames follow the chains of sample_model: for a stack the last frame is its means,
// bit for bit; the first (step 0, from given start states) the start taken down by mean-field.
TEST(ChainFrames, LastFrameIsTheSamplesAndFirstTheStart) {
    Rng init(4);
    Dbn model;
    model.layers.push_back(testing::random_rbm(9, 5, init, 0.5f));
    model.layers.push_back(testing::random_rbm(5, 3, init, 0.5f));
    SampleOptions options;
    options.count = 6;
    options.steps = 40;
    options.seed = 9;
    const Matrix start = testing::random_binary(2, 5, 1);
    const Samples s = sample_model(model, options, &start);
    const std::vector<Matrix> frames = sample_chain_frames(model, options, {0, 10, 25, 40}, &start);
    ASSERT_EQ(frames.size(), 4U);
    for (const Matrix& f : frames) {
        ASSERT_EQ(f.shape(0), 6U);
        ASSERT_EQ(f.shape(1), 9U);
    }
    EXPECT_EQ(frames.back(), s.means);
    Matrix down = Matrix::from_shape({6, 9});
    Matrix rows = Matrix::from_shape({6, 5});
    for (std::size_t r = 0; r < 6; ++r)
        for (std::size_t i = 0; i < 5; ++i) rows(r, i) = start(r % 2, i);
    model.layers[0].visible_mean(rows, down);
    EXPECT_EQ(frames.front(), down);
    EXPECT_THROW(sample_chain_frames(model, options, {}), ConfigError);
    EXPECT_THROW(sample_chain_frames(model, options, {5, 5}), ConfigError);
}

}  // namespace
}  // namespace dbn::sample
