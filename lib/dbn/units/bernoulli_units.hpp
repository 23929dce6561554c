#pragma once

#include "dbn/units/units.hpp"

namespace dbn {

/// @brief Binary units, visible or hidden: p(u = 1 | input) = sigmoid(input + b), energy term
/// e(u) = -b u, log-marginal softplus(beta (input + b)) (docs/MATH.md#one-rbm,
/// docs/MATH.md#free-energies).
class BernoulliUnits final : public Units {
public:
    UnitType type() const override { return UnitType::bernoulli; }
    const char* name() const override { return "bernoulli"; }
    const char* label() const override { return "Bernoulli"; }
    std::vector<std::string> aliases() const override { return {"binary"}; }
    bool allowed(UnitSide) const override { return true; }

    bool binary() const override { return true; }
    bool closed_form() const override { return true; }
    bool has_sigma() const override { return false; }
    bool bias_adds_to_input() const override { return true; }
    bool samples_from_input() const override { return false; }
    MeanFunction mean_function() const override { return MeanFunction::logistic; }
    UnitType visible_model() const override { return UnitType::bernoulli; }

    bool input_is_state(const UnitParams&, std::size_t) const override { return true; }
    void scale_input(ConstRows v, const UnitParams& p, Rows x) const override;
    void mean(ConstRows input, const UnitParams& p, Rows mean) const override;
    void sample(ConstRows input, ConstRows mean, const UnitParams& p, Rows out,
                Rng& rng) const override;
    void sample_uncoupled(const UnitParams& p, Rows out, Rng& rng) const override;
    void add_energy(ConstRows state, const UnitParams& p, double* out) const override;
    void add_energy_difference(ConstRows state, const UnitParams& from, const UnitParams& to,
                               double* out) const override;

    void subtract_log_marginals(ConstRows input, const UnitParams& p, double* out) const override;
    double log_marginal_constant(const UnitParams&, std::size_t) const override { return 0.0; }
    double add_uncoupled_log_partition(const UnitParams& p, std::size_t n,
                                       double acc) const override;
    /// The bias must be in the input (p.bias null): the kernel scales the float activations.
    void tempered_log_marginals(ConstRows input, const UnitParams& p, double beta, double* out,
                                Rows mean) const override;
    std::vector<double> log_marginal_coefficients(const UnitParams&, std::size_t) const override {
        return {};
    }
    void log_marginal_rows(const double* x, std::size_t rows, const double* y, std::size_t n,
                           const std::vector<double>& coef, double* out) const override;

    void add_log_conditional(ConstRows state, ConstRows input, const UnitParams& p,
                             double* out) const override;
    void base_rate_bias(const double* mean, std::size_t n, double clip, Real* bias) const override;
};

}  // namespace dbn
