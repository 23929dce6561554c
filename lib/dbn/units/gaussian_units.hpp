#pragma once

#include "dbn/units/units.hpp"

namespace dbn {

/// @brief Real-valued visible units with a fixed per-unit standard deviation s:
/// v | input ~ N(a + s input, s^2), energy term e(v) = (v - a)^2 / (2 s^2), state entering the
/// weights as v / s, log-marginal beta (a input / s + input^2 / 2) + log(sqrt(2 pi / beta) s)
/// (docs/MATH.md#one-rbm, docs/MATH.md#free-energies). Their input never includes the bias.
class GaussianUnits final : public Units {
public:
    UnitType type() const override { return UnitType::gaussian; }
    const char* name() const override { return "gaussian"; }
    const char* label() const override { return "Gaussian"; }
    std::vector<std::string> aliases() const override { return {}; }
    bool allowed(UnitSide side) const override { return side == UnitSide::visible; }

    bool binary() const override { return false; }
    bool closed_form() const override { return true; }
    bool has_sigma() const override { return true; }
    bool bias_adds_to_input() const override { return false; }
    bool samples_from_input() const override { return false; }
    MeanFunction mean_function() const override { return MeanFunction::affine; }
    UnitType visible_model() const override { return UnitType::gaussian; }

    bool input_is_state(const UnitParams& p, std::size_t n) const override;
    void scale_input(ConstRows v, const UnitParams& p, Rows x) const override;
    void mean(ConstRows input, const UnitParams& p, Rows mean) const override;
    /// out must not be the mean block: the normal draws go into out first.
    void sample(ConstRows input, ConstRows mean, const UnitParams& p, Rows out,
                Rng& rng) const override;
    void sample_uncoupled(const UnitParams& p, Rows out, Rng& rng) const override;
    void add_energy(ConstRows state, const UnitParams& p, double* out) const override;
    void add_energy_difference(ConstRows state, const UnitParams& from, const UnitParams& to,
                               double* out) const override;

    void subtract_log_marginals(ConstRows input, const UnitParams& p, double* out) const override;
    double log_marginal_constant(const UnitParams& p, std::size_t n) const override;
    double add_uncoupled_log_partition(const UnitParams& p, std::size_t n,
                                       double acc) const override;
    void tempered_log_marginals(ConstRows input, const UnitParams& p, double beta, double* out,
                                Rows mean) const override;
    std::vector<double> log_marginal_coefficients(const UnitParams& p,
                                                  std::size_t n) const override;
    void log_marginal_rows(const double* x, std::size_t rows, const double* y, std::size_t n,
                           const std::vector<double>& coef, double* out) const override;

    void add_log_conditional(ConstRows state, ConstRows input, const UnitParams& p,
                             double* out) const override;
    void base_rate_bias(const double* mean, std::size_t n, double clip, Real* bias) const override;
};

}  // namespace dbn
