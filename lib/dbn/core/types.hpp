#pragma once

#include <cstddef>
#include <cstdint>

#include <xtensor/xtensor.hpp>

namespace dbn {

/// Scalar type of parameters, data and activations.
using Real = float;
/// Row-major matrix, one sample per row.
using Matrix = xt::xtensor<Real, 2>;
using Vector = xt::xtensor<Real, 1>;
/// Double-precision arrays for reductions over many terms (free energies, log weights).
using DMatrix = xt::xtensor<double, 2>;
using DVector = xt::xtensor<double, 1>;
/// Integer class labels.
using Labels = xt::xtensor<std::int32_t, 1>;

/// @brief Read-only view of `rows` consecutive rows of a row-major matrix (no ownership).
struct ConstRows {
    const Real* data = nullptr;
    std::size_t rows = 0;
    std::size_t cols = 0;

    ConstRows() = default;
    ConstRows(const Real* d, std::size_t r, std::size_t c) : data(d), rows(r), cols(c) {}
    ConstRows(const Matrix& m)  // NOLINT: implicit on purpose, a Matrix is a view of all its rows
        : data(m.data()), rows(m.shape(0)), cols(m.shape(1)) {}
    const Real* row(std::size_t i) const { return data + i * cols; }
    ConstRows block(std::size_t first, std::size_t count) const {
        return {data + first * cols, count, cols};
    }
};

/// @brief Writable view of `rows` consecutive rows of a row-major matrix (no ownership).
struct Rows {
    Real* data = nullptr;
    std::size_t rows = 0;
    std::size_t cols = 0;

    Rows() = default;
    Rows(Real* d, std::size_t r, std::size_t c) : data(d), rows(r), cols(c) {}
    Rows(Matrix& m)  // NOLINT: implicit on purpose
        : data(m.data()), rows(m.shape(0)), cols(m.shape(1)) {}
    operator ConstRows() const { return {data, rows, cols}; }  // NOLINT
    Real* row(std::size_t i) const { return data + i * cols; }
    Rows block(std::size_t first, std::size_t count) const {
        return {data + first * cols, count, cols};
    }
};

}  // namespace dbn
