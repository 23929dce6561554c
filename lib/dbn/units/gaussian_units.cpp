#include "dbn/units/gaussian_units.hpp"

#include <cmath>

#include "dbn/core/error.hpp"

// Two forms of the log-marginal's data term live here, kept apart so that the free energies
// and exact log Z stay bit for bit what they were: subtract_log_marginals() writes
// a c / s + c^2 / 2 as the free energies always have, and log_marginal_rows() (exact
// enumeration, 2^n states per call) (a / s + c / 2) c with a / s hoisted out of its loop.
// They differ in the last bit only.

namespace dbn {
namespace {

constexpr double k_log_sqrt_two_pi = 0.91893853320467274178032973640562;
constexpr double k_log_two_pi = 1.83787706640934548356065947281124;

void check_params(const UnitParams& p, const char* fn) {
    DBN_CHECK(p.bias != nullptr && p.sigma != nullptr, ConfigError,
              "GaussianUnits::" << fn
                                << ": needs the biases and sigmas (the input of Gaussian "
                                   "units never includes the bias)");
}

}  // namespace

bool GaussianUnits::input_is_state(const UnitParams& p, std::size_t n) const {
    if (p.sigma == nullptr) return true;
    for (std::size_t i = 0; i < n; ++i) {
        if (p.sigma[i] != 1.0f) return false;
    }
    return true;
}

void GaussianUnits::scale_input(ConstRows v, const UnitParams& p, Rows x) const {
    for (std::size_t r = 0; r < v.rows; ++r) {
        const Real* in = v.row(r);
        Real* out = x.row(r);
        if (p.inv_sigma != nullptr) {
            const Real* t = p.inv_sigma;
            for (std::size_t k = 0; k < v.cols; ++k) out[k] = in[k] * t[k];
        } else {
            const Real* s = p.sigma;
            for (std::size_t k = 0; k < v.cols; ++k) out[k] = in[k] / s[k];
        }
    }
}

void GaussianUnits::mean(ConstRows input, const UnitParams& p, Rows mean) const {
    check_params(p, "mean");
    const Real* a = p.bias;
    const Real* s = p.sigma;
    for (std::size_t r = 0; r < input.rows; ++r) {
        const Real* in = input.row(r);
        Real* m = mean.row(r);
        for (std::size_t k = 0; k < input.cols; ++k) m[k] = a[k] + s[k] * in[k];
    }
}

void GaussianUnits::sample(ConstRows, ConstRows mean, const UnitParams& p, Rows out,
                           Rng& rng) const {
    rng.fill_normal(out.data, mean.rows * mean.cols);
    const Real* s = p.sigma;
    for (std::size_t r = 0; r < mean.rows; ++r) {
        const Real* m = mean.row(r);
        Real* o = out.row(r);
        for (std::size_t k = 0; k < mean.cols; ++k) o[k] = m[k] + s[k] * o[k];
    }
}

void GaussianUnits::sample_uncoupled(const UnitParams& p, Rows out, Rng& rng) const {
    check_params(p, "sample_uncoupled");
    rng.fill_normal(out.data, out.rows * out.cols);
    for (std::size_t r = 0; r < out.rows; ++r) {
        Real* v = out.row(r);
        for (std::size_t i = 0; i < out.cols; ++i)
            v[i] = static_cast<Real>(double(p.bias[i]) + double(p.sigma[i]) * v[i]);
    }
}

void GaussianUnits::add_energy(ConstRows state, const UnitParams& p, double* out) const {
    check_params(p, "add_energy");
    for (std::size_t r = 0; r < state.rows; ++r) {
        const Real* v = state.row(r);
        double acc = out[r];
        for (std::size_t i = 0; i < state.cols; ++i) {
            const double s = p.sigma[i];
            const double d = v[i] - double(p.bias[i]);
            acc += d * d / (2.0 * s * s);
        }
        out[r] = acc;
    }
}

void GaussianUnits::add_energy_difference(ConstRows state, const UnitParams& from,
                                          const UnitParams& to, double* out) const {
    check_params(from, "add_energy_difference");
    for (std::size_t r = 0; r < state.rows; ++r) {
        const Real* v = state.row(r);
        double acc = out[r];
        for (std::size_t i = 0; i < state.cols; ++i) {
            const double s = from.sigma[i];
            const double da = v[i] - double(from.bias[i]);
            const double db = v[i] - double(to.bias[i]);
            acc += (da * da - db * db) / (2.0 * s * s);
        }
        out[r] = acc;
    }
}

void GaussianUnits::subtract_log_marginals(ConstRows input, const UnitParams& p,
                                           double* out) const {
    check_params(p, "subtract_log_marginals");
    const double constant = log_marginal_constant(p, input.cols);
    for (std::size_t r = 0; r < input.rows; ++r) {
        const Real* x = input.row(r);
        double acc = out[r];
        for (std::size_t i = 0; i < input.cols; ++i) {
            const double c = x[i];
            acc -= double(p.bias[i]) * c / double(p.sigma[i]) + 0.5 * c * c;
        }
        out[r] = acc - constant;
    }
}

double GaussianUnits::log_marginal_constant(const UnitParams& p, std::size_t n) const {
    return add_uncoupled_log_partition(p, n, 0.0);
}

double GaussianUnits::add_uncoupled_log_partition(const UnitParams& p, std::size_t n,
                                                  double acc) const {
    DBN_CHECK(p.sigma != nullptr, ConfigError,
              "GaussianUnits::add_uncoupled_log_partition: needs the sigmas");
    for (std::size_t i = 0; i < n; ++i) acc += k_log_sqrt_two_pi + std::log(double(p.sigma[i]));
    return acc;
}

void GaussianUnits::tempered_log_marginals(ConstRows input, const UnitParams& p, double beta,
                                           double* out, Rows mean) const {
    check_params(p, "tempered_log_marginals");
    DBN_CHECK(beta > 0.0, ConfigError,
              "GaussianUnits::tempered_log_marginals: beta must be positive (got "
                  << beta << "): at beta = 0 the integral over v diverges");
    // log integral of exp(-beta ((v - a)^2 / (2 s^2) - v c / s)) dv
    //     = beta (a c / s + c^2 / 2) + log s + log(2 pi / beta) / 2.
    const std::vector<double> coef = log_marginal_coefficients(p, input.cols);
    double constant = 0.0;
    for (std::size_t i = 0; i < input.cols; ++i)
        constant += std::log(double(p.sigma[i])) + 0.5 * (k_log_two_pi - std::log(beta));
    for (std::size_t r = 0; r < input.rows; ++r) {
        const Real* x = input.row(r);
        double acc = 0.0;
        for (std::size_t i = 0; i < input.cols; ++i) {
            const double c = x[i];
            acc += (coef[i] + 0.5 * c) * c;
        }
        out[r] = beta * acc + constant;
    }
    // The tempered conditional is N(a + s c, s^2 / beta): same mean at every beta.
    if (mean.data != nullptr) this->mean(input, p, mean);
}

std::vector<double> GaussianUnits::log_marginal_coefficients(const UnitParams& p,
                                                             std::size_t n) const {
    check_params(p, "log_marginal_coefficients");
    std::vector<double> coef(n);
    for (std::size_t i = 0; i < n; ++i) coef[i] = double(p.bias[i]) / double(p.sigma[i]);
    return coef;
}

void GaussianUnits::log_marginal_rows(const double* x, std::size_t rows, const double* y,
                                      std::size_t n, const std::vector<double>& coef,
                                      double* out) const {
    for (std::size_t z = 0; z < rows; ++z) {
        const double* t = x + z * n;
        double acc = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            const double c = t[i] + y[i];
            acc += (coef[i] + 0.5 * c) * c;
        }
        out[z] = acc;
    }
}

void GaussianUnits::add_log_conditional(ConstRows state, ConstRows input, const UnitParams& p,
                                        double* out) const {
    check_params(p, "add_log_conditional");
    // log N(v; a + s c, s^2).
    for (std::size_t r = 0; r < state.rows; ++r) {
        const Real* v = state.row(r);
        const Real* c = input.row(r);
        double acc = out[r];
        for (std::size_t i = 0; i < state.cols; ++i) {
            const double a = p.bias[i];
            const double s = p.sigma[i];
            const double d = (v[i] - a - s * c[i]) / s;
            acc += -0.5 * d * d - k_log_sqrt_two_pi - std::log(s);
        }
        out[r] = acc;
    }
}

void GaussianUnits::base_rate_bias(const double* mean, std::size_t n, double, Real* bias) const {
    for (std::size_t i = 0; i < n; ++i) bias[i] = static_cast<Real>(mean[i]);
}

}  // namespace dbn
