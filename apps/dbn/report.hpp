#pragma once

// JSON and text renderings shared by `dbn info` and `dbn eval`.

#include <cmath>
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "dbn/estimate/check_types.hpp"
#include "dbn/finetune/fine_tuned.hpp"

namespace dbn::cli {

/// NaN and infinities are not JSON: figures that do not apply (or an unbounded interval end)
/// become null.
inline nlohmann::json number(double x) {
    return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

inline nlohmann::json log_z_json(const estimate::LayerLogZ& z) {
    nlohmann::json j = {{"index", z.index}, {"available", z.available}};
    if (!z.available) {
        j["note"] = z.note;
        return j;
    }
    j["log_z"] = number(z.log_z.value);
    j["log_z_low"] = number(z.log_z.low);
    j["log_z_high"] = number(z.log_z.high);
    j["log_z_method"] = z.method;
    j["seconds"] = number(z.seconds);
    if (z.method == "ais") {
        j["ais_runs"] = z.ais_runs;
        j["ais_steps"] = z.ais_steps;
        j["ais_effective_sample_size"] = number(z.ess);
    }
    return j;
}

inline nlohmann::json check_json(const estimate::ConsistencyCheck& c) {
    nlohmann::json j = {{"lower", c.lower}, {"upper", c.upper}, {"applicable", c.applicable}};
    if (!c.note.empty()) j["note"] = c.note;
    if (!c.applicable) {
        j["passed"] = nullptr;
        j["diagnostic"] = c.diagnostic;
        return j;
    }
    j["samples"] = c.samples;
    j["free_energy_gap"] = number(c.free_energy_gap);
    j["free_energy_gap_standard_error"] = number(c.free_energy_gap_se);
    j["delta_log_z"] = number(c.delta_log_z);
    j["delta_log_z_low"] = number(c.delta_log_z_low);
    j["delta_log_z_high"] = number(c.delta_log_z_high);
    j["bound_change"] = number(c.bound_change);
    j["bound_change_low"] = number(c.bound_change_low);
    j["bound_change_high"] = number(c.bound_change_high);
    j["passed"] = c.passed;
    j["verdict"] = estimate::check_verdict(c);
    j["diagnostic"] = c.diagnostic;
    return j;
}

/// @brief The table of log Z per layer and checks per pair, as pretraining and eval print it.
void print_checks(std::ostream& out, const std::vector<estimate::LayerLogZ>& log_z,
                  const std::vector<estimate::ConsistencyCheck>& checks);

/// @brief The fine-tuned part of a model for `dbn info`: JSON and text.
nlohmann::json fine_tuned_json(const finetune::FineTuned& ft);
void print_fine_tuned(std::ostream& out, const finetune::FineTuned& ft);

}  // namespace dbn::cli
