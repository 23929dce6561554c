#include "dbn/estimate/likelihood.hpp"

#include <algorithm>
#include <cmath>

#include "dbn/core/error.hpp"

namespace dbn::estimate {
namespace {

/// Rows per free-energy block: bounds the temporary rows x n_hidden activations to a few MB.
constexpr std::size_t k_block_rows = 1024;

}  // namespace

double mean_free_energy(const Rbm& rbm, ConstRows data) {
    DBN_CHECK(data.cols == rbm.n_visible(), ShapeError,
              "mean_free_energy: data has " << data.cols << " columns (expected " << rbm.n_visible()
                                            << ")");
    DBN_CHECK(data.rows > 0, ShapeError,
              "mean_free_energy: data has no rows (expected at least 1)");
    double sum = 0.0;
    for (std::size_t first = 0; first < data.rows; first += k_block_rows) {
        const std::size_t rows = std::min(k_block_rows, data.rows - first);
        const DVector f = rbm.free_energy(data.block(first, rows));
        for (double x : f) sum += x;
    }
    return sum / static_cast<double>(data.rows);
}

LogLikelihood mean_log_likelihood(const Rbm& rbm, ConstRows data, const LogPartition& log_z) {
    DBN_CHECK(std::isfinite(log_z.value), NumericalError,
              "mean_log_likelihood: log Z is not finite (" << log_z.value << ")");
    DBN_CHECK(log_z.low <= log_z.value && log_z.value <= log_z.high, NumericalError,
              "mean_log_likelihood: log Z " << log_z.value << " lies outside its interval ["
                                            << log_z.low << ", " << log_z.high << "]");
    LogLikelihood ll;
    ll.mean_free_energy = mean_free_energy(rbm, data);
    ll.samples = data.rows;
    ll.mean = -ll.mean_free_energy - log_z.value;
    ll.low = -ll.mean_free_energy - log_z.high;
    ll.high = -ll.mean_free_energy - log_z.low;  // +inf when log_z.low is -inf
    DBN_CHECK(
        std::isfinite(ll.mean), NumericalError,
        "mean_log_likelihood: the mean free energy is not finite (" << ll.mean_free_energy << ")");
    return ll;
}

LogLikelihood mean_log_likelihood(const Rbm& rbm, ConstRows data, double log_z) {
    return mean_log_likelihood(rbm, data, LogPartition::exact(log_z));
}

LogLikelihood mean_log_likelihood(const Rbm& rbm, ConstRows data, const AisResult& ais) {
    return mean_log_likelihood(rbm, data, LogPartition::from(ais));
}

}  // namespace dbn::estimate
