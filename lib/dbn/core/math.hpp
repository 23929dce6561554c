#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace dbn {

/// @brief Logistic function, exact to float precision and finite for any finite input.
inline float sigmoid(float x) {
    // exp of a non-positive number never overflows.
    if (x >= 0.0f) {
        return 1.0f / (1.0f + std::exp(-x));
    }
    const float e = std::exp(x);
    return e / (1.0f + e);
}

/// @brief softplus(t) = log(1 + e^t), stable for |t| up to the float range.
inline double softplus(double t) { return std::max(t, 0.0) + std::log1p(std::exp(-std::abs(t))); }

/// @brief log(sum_i exp(x_i)) without overflow; -inf for an empty range.
template <class It>
double logsumexp(It first, It last) {
    if (first == last) return -std::numeric_limits<double>::infinity();
    double m = -std::numeric_limits<double>::infinity();
    for (It it = first; it != last; ++it) m = std::max(m, static_cast<double>(*it));
    if (!std::isfinite(m)) return m;
    double s = 0.0;
    for (It it = first; it != last; ++it) s += std::exp(static_cast<double>(*it) - m);
    return m + std::log(s);
}

/// @brief Running log-sum-exp accumulator: add terms one by one, never overflows.
class LogSumExp {
public:
    void add(double x) {
        if (x == -std::numeric_limits<double>::infinity()) return;
        if (x <= max_) {
            sum_ += std::exp(x - max_);
        } else {
            sum_ = sum_ * std::exp(max_ - x) + 1.0;
            max_ = x;
        }
    }
    void merge(const LogSumExp& other) {
        if (other.sum_ == 0.0) return;
        add_scaled(other.max_, other.sum_);
    }
    double value() const {
        return sum_ == 0.0 ? -std::numeric_limits<double>::infinity() : max_ + std::log(sum_);
    }

private:
    void add_scaled(double m, double s) {
        if (m <= max_) {
            sum_ += s * std::exp(m - max_);
        } else {
            sum_ = sum_ * std::exp(max_ - m) + s;
            max_ = m;
        }
    }
    double max_ = -std::numeric_limits<double>::infinity();
    double sum_ = 0.0;
};

}  // namespace dbn
