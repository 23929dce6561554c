#include "dbn/units/nrelu_units.hpp"

#include <cmath>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"
#include "dbn/units/linear_energy.hpp"

namespace dbn {
namespace {

[[noreturn]] void no_closed_form(const char* fn) {
    throw ConfigError(std::string("NReluUnits::") + fn +
                      ": rectified (relu) units have no closed-form log-marginal, so no free "
                      "energy, log Z or log-conditional");
}

}  // namespace

void NReluUnits::scale_input(ConstRows v, const UnitParams&, Rows x) const {
    detail::copy_rows(v, x);
}

void NReluUnits::mean(ConstRows input, const UnitParams& p, Rows mean) const {
    if (p.bias == nullptr) {
        const std::size_t n = input.rows * input.cols;
        for (std::size_t i = 0; i < n; ++i)
            mean.data[i] = input.data[i] > 0.0f ? input.data[i] : 0.0f;
        return;
    }
    for (std::size_t r = 0; r < input.rows; ++r) {
        const Real* x = input.row(r);
        Real* m = mean.row(r);
        for (std::size_t j = 0; j < input.cols; ++j) {
            const Real t = x[j] + p.bias[j];
            m[j] = t > 0.0f ? t : 0.0f;
        }
    }
}

void NReluUnits::sample(ConstRows input, ConstRows, const UnitParams& p, Rows out, Rng& rng) const {
    // max(0, x + N(0, sigmoid(x))), the variance being sigmoid(x).
    rng.fill_normal(out.data, input.rows * input.cols);
    const auto draw = [](float x, float z) {
        const float y = x + std::sqrt(sigmoid(x)) * z;
        return y > 0.0f ? y : 0.0f;
    };
    if (p.bias == nullptr) {
        const std::size_t n = input.rows * input.cols;
        for (std::size_t i = 0; i < n; ++i) out.data[i] = draw(input.data[i], out.data[i]);
        return;
    }
    for (std::size_t r = 0; r < input.rows; ++r) {
        const Real* x = input.row(r);
        Real* o = out.row(r);
        for (std::size_t j = 0; j < input.cols; ++j) o[j] = draw(x[j] + p.bias[j], o[j]);
    }
}

void NReluUnits::sample_uncoupled(const UnitParams& p, Rows out, Rng& rng) const {
    // Input 0: x = b.
    Matrix zero = xt::zeros<Real>({out.rows, out.cols});
    sample(zero, zero, p, out, rng);
}

void NReluUnits::add_energy(ConstRows state, const UnitParams& p, double* out) const {
    detail::add_linear_energy(state, p.bias, out);
}

void NReluUnits::add_energy_difference(ConstRows state, const UnitParams& from,
                                       const UnitParams& to, double* out) const {
    detail::add_linear_energy_difference(state, from.bias, to.bias, out);
}

void NReluUnits::subtract_log_marginals(ConstRows, const UnitParams&, double*) const {
    no_closed_form("subtract_log_marginals");
}

double NReluUnits::log_marginal_constant(const UnitParams&, std::size_t) const {
    no_closed_form("log_marginal_constant");
}

double NReluUnits::add_uncoupled_log_partition(const UnitParams&, std::size_t, double) const {
    no_closed_form("add_uncoupled_log_partition");
}

void NReluUnits::tempered_log_marginals(ConstRows, const UnitParams&, double, double*, Rows) const {
    no_closed_form("tempered_log_marginals");
}

std::vector<double> NReluUnits::log_marginal_coefficients(const UnitParams&, std::size_t) const {
    no_closed_form("log_marginal_coefficients");
}

void NReluUnits::log_marginal_rows(const double*, std::size_t, const double*, std::size_t,
                                   const std::vector<double>&, double*) const {
    no_closed_form("log_marginal_rows");
}

void NReluUnits::add_log_conditional(ConstRows, ConstRows, const UnitParams&, double*) const {
    no_closed_form("add_log_conditional");
}

void NReluUnits::base_rate_bias(const double*, std::size_t, double, Real*) const {
    throw ConfigError(
        "NReluUnits::base_rate_bias: rectified (relu) units are hidden units only, so they have "
        "no base rate");
}

}  // namespace dbn
