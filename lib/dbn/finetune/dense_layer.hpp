#pragma once

#include <string>

#include "dbn/core/types.hpp"

namespace dbn::finetune {

/// @brief Output function of a dense layer of an unrolled network.
///
/// sigmoid(z) = 1 / (1 + e^-z) (Bernoulli units), relu(z) = max(0, z) (the NReLU mean),
/// linear(z) = z (Gaussian units, a linear code), softmax(z)_j = e^z_j / sum_i e^z_i (the
/// classifier's output layer only).
enum class Activation { sigmoid, relu, linear, softmax };

/// @brief "sigmoid", "relu", "linear" or "softmax": the names used in model files.
const char* to_string(Activation a);
/// @throws ConfigError for an unknown name; `what` names the setting in the message.
Activation parse_activation(const std::string& name, const std::string& what = "activation");

/// @brief One fully connected layer: out = f(in W + b), W of shape [n_in, n_out] (row-major,
/// the orientation of an RBM's weights; torch.nn.Linear's weight is its transpose).
struct DenseLayer {
    Matrix weights = Matrix::from_shape({0, 0});
    Vector bias = Vector::from_shape({0});
    Activation activation = Activation::sigmoid;

    std::size_t n_in() const { return weights.shape(0); }
    std::size_t n_out() const { return weights.shape(1); }
};

}  // namespace dbn::finetune
