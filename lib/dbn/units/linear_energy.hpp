#pragma once

#include <cstddef>
#include <cstring>

#include "dbn/core/types.hpp"

// The energy term e(u) = -b u that Bernoulli and NReLU units share (internal to units/).

namespace dbn::detail {

/// out[r] -= sum_i b_i u_ri, term by term; nothing when bias is null (zero biases).
inline void add_linear_energy(ConstRows state, const Real* bias, double* out) {
    if (bias == nullptr) return;
    for (std::size_t r = 0; r < state.rows; ++r) {
        const Real* u = state.row(r);
        double acc = out[r];
        for (std::size_t i = 0; i < state.cols; ++i) acc -= double(bias[i]) * u[i];
        out[r] = acc;
    }
}

/// out[r] += sum_i (to_i - from_i) u_ri: e(u; from) - e(u; to) for e(u; b) = -b u.
inline void add_linear_energy_difference(ConstRows state, const Real* from, const Real* to,
                                         double* out) {
    for (std::size_t r = 0; r < state.rows; ++r) {
        const Real* u = state.row(r);
        double acc = out[r];
        for (std::size_t i = 0; i < state.cols; ++i)
            acc += (double(to[i]) - double(from[i])) * u[i];
        out[r] = acc;
    }
}

/// x = v, unless they are the same block (the scale_input of unscaled families).
inline void copy_rows(ConstRows v, Rows x) {
    if (x.data != v.data) std::memcpy(x.data, v.data, v.rows * v.cols * sizeof(Real));
}

}  // namespace dbn::detail
