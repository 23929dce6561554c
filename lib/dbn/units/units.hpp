#pragma once

#include <string>

namespace dbn {

/// @brief Unit families of an RBM layer.
///
/// - bernoulli: binary units, p(u = 1 | input) = sigmoid(input); visible or hidden.
/// - gaussian: real-valued visible units with a fixed per-unit sigma (docs/MATH.md#one-rbm).
/// - relu: noisy rectified hidden units (NReLU, Nair & Hinton 2010), max(0, x + N(0, sigmoid(x))).
enum class UnitType { bernoulli, gaussian, relu };

/// @brief "bernoulli", "gaussian" or "relu": the names used in configs and model files.
const char* to_string(UnitType t);
/// @brief Parses a unit name; `what` names the setting in the error message.
/// @throws ConfigError for an unknown name.
UnitType parse_unit_type(const std::string& name, const std::string& what = "unit type");

}  // namespace dbn
