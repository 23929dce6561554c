#pragma once

#include "dbn/units/units.hpp"

namespace dbn {

/// @brief Noisy rectified hidden units (NReLU, Nair & Hinton 2010): h = max(0, x + N(0,
/// sigmoid(x))) for x = input + b, mean-field value max(0, x), energy term -b h. They stand for
/// infinitely many tied binary units, whose log-marginal has no closed form: no free energy,
/// log Z, AIS weights, log-conditional or base rate (those operations throw ConfigError).
class NReluUnits final : public Units {
public:
    UnitType type() const override { return UnitType::relu; }
    const char* name() const override { return "relu"; }
    const char* label() const override { return "NReLU"; }
    std::vector<std::string> aliases() const override { return {"nrelu"}; }
    bool allowed(UnitSide side) const override { return side == UnitSide::hidden; }

    bool binary() const override { return false; }
    bool closed_form() const override { return false; }
    bool has_sigma() const override { return false; }
    bool bias_adds_to_input() const override { return true; }
    bool samples_from_input() const override { return true; }
    MeanFunction mean_function() const override { return MeanFunction::rectified; }
    UnitType visible_model() const override { return UnitType::gaussian; }

    bool input_is_state(const UnitParams&, std::size_t) const override { return true; }
    void scale_input(ConstRows v, const UnitParams& p, Rows x) const override;
    /// max(0, x): the noise-free value, which the network of fine-tuning uses, not the
    /// expectation of the noisy sample.
    void mean(ConstRows input, const UnitParams& p, Rows mean) const override;
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
