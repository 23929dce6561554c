#include "dbn/data/preprocess.hpp"

#include <cmath>
#include <sstream>
#include <vector>

#include "dbn/core/error.hpp"

namespace dbn::data {
namespace {

void check_options(const Preprocessing& p, const char* fn) {
    DBN_CHECK(
        std::isfinite(p.scale) && p.scale > 0.0f, ConfigError,
        "Preprocessing::" << fn << ": scale must be positive and finite (got " << p.scale << ")");
    DBN_CHECK(!(p.binarize && p.standardize), ConfigError,
              "Preprocessing::" << fn << ": binarize and standardize exclude each other");
    DBN_CHECK(!p.binarize || std::isfinite(p.threshold), ConfigError,
              "Preprocessing::" << fn << ": threshold must be finite (got " << p.threshold << ")");
}

}  // namespace

void Preprocessing::fit(const Matrix& x) {
    check_options(*this, "fit");
    if (!standardize) {
        // Stale statistics would otherwise be saved with the model and mislead a reader.
        mean = Vector::from_shape({0});
        stddev = Vector::from_shape({0});
        return;
    }
    const std::size_t rows = x.shape(0);
    const std::size_t cols = x.shape(1);
    DBN_CHECK(rows > 0, ShapeError, "Preprocessing::fit: no samples to standardize with");

    // Two passes in double: one-pass sums of squares lose every digit when |mean| >> stddev.
    std::vector<double> sum(cols, 0.0);
    const Real* data = x.data();
    for (std::size_t r = 0; r < rows; ++r) {
        const Real* row = data + r * cols;
        for (std::size_t j = 0; j < cols; ++j) sum[j] += static_cast<double>(row[j] / scale);
    }
    std::vector<double> mu(cols);
    for (std::size_t j = 0; j < cols; ++j) mu[j] = sum[j] / static_cast<double>(rows);
    std::vector<double> ss(cols, 0.0);
    for (std::size_t r = 0; r < rows; ++r) {
        const Real* row = data + r * cols;
        for (std::size_t j = 0; j < cols; ++j) {
            const double d = static_cast<double>(row[j] / scale) - mu[j];
            ss[j] += d * d;
        }
    }

    mean = Vector::from_shape({cols});
    stddev = Vector::from_shape({cols});
    for (std::size_t j = 0; j < cols; ++j) {
        // Population standard deviation (divide by n), so the training set comes out with unit
        // variance exactly.
        const double sd = std::sqrt(ss[j] / static_cast<double>(rows));
        DBN_CHECK(std::isfinite(mu[j]) && std::isfinite(sd), NumericalError,
                  "Preprocessing::fit: feature " << j << " has a non-finite mean or stddev");
        mean(j) = static_cast<Real>(mu[j]);
        // A feature (nearly) constant on the training set, such as an MNIST corner pixel, is only
        // centred: dividing by its tiny spread would blow up any other value seen at inference.
        stddev(j) = sd >= min_stddev ? static_cast<Real>(sd) : Real{1};
    }
}

void Preprocessing::apply(Matrix& x) const {
    check_options(*this, "apply");
    const std::size_t rows = x.shape(0);
    const std::size_t cols = x.shape(1);
    if (standardize) {
        DBN_CHECK(mean.size() == cols && stddev.size() == cols, ShapeError,
                  "Preprocessing::apply: data has " << cols << " columns (expected " << mean.size()
                                                    << " fitted features)");
    }
    Real* data = x.data();
    const std::size_t n = rows * cols;
    if (scale != 1.0f) {
        // Division, not multiplication by 1/scale: "x / 255" then rounds exactly as written.
        for (std::size_t i = 0; i < n; ++i) data[i] /= scale;
    }
    if (binarize) {
        for (std::size_t i = 0; i < n; ++i) data[i] = data[i] > threshold ? 1.0f : 0.0f;
    } else if (standardize) {
        const Real* mu = mean.data();
        const Real* sd = stddev.data();
        for (std::size_t r = 0; r < rows; ++r) {
            Real* row = data + r * cols;
            for (std::size_t j = 0; j < cols; ++j) row[j] = (row[j] - mu[j]) / sd[j];
        }
    }
}

std::string Preprocessing::describe() const {
    if (is_identity()) return "none";
    std::ostringstream out;
    const char* sep = "";
    if (scale != 1.0f) {
        out << "scale 1/" << scale;
        sep = ", ";
    }
    if (binarize) out << sep << "binarize at " << threshold;
    if (standardize) {
        out << sep << "standardize";
        if (mean.size() > 0)
            out << " (" << mean.size() << " features)";
        else
            out << " (not fitted)";
    }
    return out.str();
}

}  // namespace dbn::data
