#include "dbn/units/bernoulli_units.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/core/vector_math.hpp"
#include "dbn/units/kernels.hpp"
#include "dbn/units/linear_energy.hpp"

namespace dbn {
namespace {

constexpr double k_log_two = 0.69314718055994530941723212145818;

}  // namespace

void BernoulliUnits::scale_input(ConstRows v, const UnitParams&, Rows x) const {
    detail::copy_rows(v, x);
}

void BernoulliUnits::mean(ConstRows input, const UnitParams& p, Rows mean) const {
    if (p.bias == nullptr) {
        vec::sigmoid(input.data, mean.data, input.rows * input.cols);
        return;
    }
    for (std::size_t r = 0; r < input.rows; ++r)
        detail::shifted_sigmoid(input.row(r), p.bias, mean.row(r), input.cols);
}

void BernoulliUnits::sample(ConstRows, ConstRows mean, const UnitParams&, Rows out,
                            Rng& rng) const {
    rng.bernoulli(mean.data, out.data, out.rows * out.cols);
}

void BernoulliUnits::sample_uncoupled(const UnitParams& p, Rows out, Rng& rng) const {
    if (out.rows == 0) return;
    // One row of probabilities, repeated: every row has the same distribution.
    Real* first = out.row(0);
    for (std::size_t i = 0; i < out.cols; ++i)
        first[i] = p.bias == nullptr ? 0.5f : sigmoid(p.bias[i]);
    for (std::size_t r = 1; r < out.rows; ++r)
        std::memcpy(out.row(r), first, out.cols * sizeof(Real));
    rng.bernoulli(out.data, out.data, out.rows * out.cols);
}

void BernoulliUnits::add_energy(ConstRows state, const UnitParams& p, double* out) const {
    detail::add_linear_energy(state, p.bias, out);
}

void BernoulliUnits::add_energy_difference(ConstRows state, const UnitParams& from,
                                           const UnitParams& to, double* out) const {
    detail::add_linear_energy_difference(state, from.bias, to.bias, out);
}

void BernoulliUnits::subtract_log_marginals(ConstRows input, const UnitParams& p,
                                            double* out) const {
    for (std::size_t r = 0; r < input.rows; ++r) {
        const Real* x = input.row(r);
        double acc = out[r];
        if (p.bias == nullptr) {
            for (std::size_t i = 0; i < input.cols; ++i) acc -= softplus(x[i]);
        } else {
            for (std::size_t i = 0; i < input.cols; ++i)
                acc -= softplus(double(p.bias[i]) + double(x[i]));
        }
        out[r] = acc;
    }
}

double BernoulliUnits::add_uncoupled_log_partition(const UnitParams& p, std::size_t n,
                                                   double acc) const {
    if (p.bias == nullptr) return acc + static_cast<double>(n) * k_log_two;
    for (std::size_t i = 0; i < n; ++i) acc += softplus(static_cast<double>(p.bias[i]));
    return acc;
}

void BernoulliUnits::tempered_log_marginals(ConstRows input, const UnitParams& p, double beta,
                                            double* out, Rows mean) const {
    DBN_CHECK(p.bias == nullptr, ConfigError,
              "BernoulliUnits::tempered_log_marginals: the bias must be in the input");
    for (std::size_t r = 0; r < input.rows; ++r)
        out[r] = detail::scaled_softplus_sum(input.row(r), beta, input.cols,
                                             mean.data != nullptr ? mean.row(r) : nullptr);
}

void BernoulliUnits::log_marginal_rows(const double* x, std::size_t rows, const double* y,
                                       std::size_t n, const std::vector<double>&,
                                       double* out) const {
    for (std::size_t z = 0; z < rows; ++z) out[z] = detail::softplus_sum(x + z * n, y, n);
}

void BernoulliUnits::add_log_conditional(ConstRows state, ConstRows input, const UnitParams& p,
                                         double* out) const {
    // log p(u | x) = u x - softplus(x).
    for (std::size_t r = 0; r < state.rows; ++r) {
        const Real* u = state.row(r);
        const Real* x = input.row(r);
        double acc = out[r];
        if (p.bias == nullptr) {
            for (std::size_t i = 0; i < state.cols; ++i)
                acc += u[i] * double(x[i]) - softplus(x[i]);
        } else {
            for (std::size_t i = 0; i < state.cols; ++i) {
                const double c = double(p.bias[i]) + x[i];
                acc += u[i] * c - softplus(c);
            }
        }
        out[r] = acc;
    }
}

void BernoulliUnits::base_rate_bias(const double* mean, std::size_t n, double clip,
                                    Real* bias) const {
    for (std::size_t i = 0; i < n; ++i) {
        const double p = std::clamp(mean[i], clip, 1.0 - clip);
        bias[i] = static_cast<Real>(std::log(p / (1.0 - p)));
    }
}

}  // namespace dbn
