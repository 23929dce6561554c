#include "dbn/train/monitors.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/core/math.hpp"

namespace dbn {
namespace {

Matrix gather(const Matrix& src, const std::vector<std::size_t>& idx) {
    const std::size_t cols = src.shape(1);
    Matrix out = Matrix::from_shape({idx.size(), cols});
    for (std::size_t r = 0; r < idx.size(); ++r)
        std::memcpy(out.data() + r * cols, src.data() + idx[r] * cols, cols * sizeof(Real));
    return out;
}

// The first n entries of a fresh random permutation of [0, total): partial Fisher-Yates.
std::vector<std::size_t> random_subset(std::size_t total, std::size_t n, Rng& rng) {
    std::vector<std::size_t> idx(total);
    std::iota(idx.begin(), idx.end(), 0);
    n = std::min(n, total);
    for (std::size_t i = 0; i < n; ++i) std::swap(idx[i], idx[i + rng.below(total - i)]);
    idx.resize(n);
    return idx;
}

double mean_of(const DVector& v) {
    double s = 0.0;
    for (double x : v) s += x;
    return v.size() ? s / static_cast<double>(v.size()) : EpochStats::nan;
}

}  // namespace

Monitors::Monitors(std::size_t layer, std::size_t samples) : layer_(layer), samples_(samples) {}

void Monitors::choose_rows(std::size_t n_data, std::size_t n_heldout, std::size_t n_visible,
                           Rng& rng) {
    std::size_t m = std::min(samples_, n_data);
    if (n_heldout > 0) m = std::min(m, n_heldout);
    rows_.train = random_subset(n_data, m, rng);
    rows_.heldout = n_heldout > 0 ? random_subset(n_heldout, m, rng) : std::vector<std::size_t>{};
    rows_.flip_bits.resize(m);
    for (auto& f : rows_.flip_bits) f = rng.below(n_visible);
}

void Monitors::restore(const MonitorRows& rows) {
    DBN_CHECK(rows.flip_bits.size() == rows.train.size() &&
                  (rows.heldout.empty() || rows.heldout.size() == rows.train.size()),
              ShapeError,
              "Monitors::restore: " << rows.train.size() << " training rows, "
                                    << rows.heldout.size() << " held-out rows and "
                                    << rows.flip_bits.size()
                                    << " flipped bits (expected one bit per training row and "
                                       "as many held-out rows, or none)");
    rows_ = rows;
}

EpochStats Monitors::measure(const Rbm& rbm, const Matrix& data, const Matrix* heldout,
                             std::size_t epoch, Rng& rng) {
    const std::size_t n_held = heldout ? heldout->shape(0) : 0;
    if (rows_.train.empty() || rows_.train.back() >= data.shape(0))
        choose_rows(data.shape(0), n_held, rbm.n_visible(), rng);
    auto fits = [](const std::vector<std::size_t>& idx, std::size_t n) {
        return std::all_of(idx.begin(), idx.end(), [n](std::size_t i) { return i < n; });
    };
    DBN_CHECK(fits(rows_.train, data.shape(0)) && (n_held == 0 || fits(rows_.heldout, n_held)) &&
                  fits(rows_.flip_bits, rbm.n_visible()),
              ShapeError,
              "Monitors: layer " << layer_ << ": the monitor rows were chosen for other data ("
                                 << data.shape(0) << " training and " << n_held
                                 << " held-out rows now)");
    EpochStats s;
    s.layer = layer_;
    s.epoch = epoch;
    const Matrix v = gather(data, rows_.train);
    const std::size_t m = v.shape(0);
    const std::size_t nv = rbm.n_visible();
    const std::size_t nh = rbm.n_hidden();

    // Reconstruction: v -> h sampled -> mean of v given h. A fixed generator seeded from the
    // layer keeps this monitor from consuming the training stream's draws.
    Rng mrng(0x5eedULL + layer_);
    Matrix act = Matrix::from_shape({m, nh});
    Matrix p = Matrix::from_shape({m, nh});
    Matrix h = Matrix::from_shape({m, nh});
    Matrix recon = Matrix::from_shape({m, nv});
    rbm.hidden_activation(v, act);
    rbm.hidden_mean(act, p);
    rbm.sample_hidden(act, p, h, mrng);
    rbm.visible_mean(h, recon);
    double err = 0.0;
    for (std::size_t i = 0; i < m * nv; ++i) {
        const double d = double(v.data()[i]) - recon.data()[i];
        err += d * d;
    }
    s.reconstruction_error = err / static_cast<double>(m * nv);

    if (rbm.hidden_units().closed_form()) {
        const DVector f = rbm.free_energy(v);
        s.free_energy_train = mean_of(f);
        if (n_held > 0 && !rows_.heldout.empty()) {
            s.free_energy_valid = mean_of(rbm.free_energy(gather(*heldout, rows_.heldout)));
            s.free_energy_gap = s.free_energy_valid - s.free_energy_train;
        }
        if (rbm.visible_units().binary()) {
            // Stochastic pseudo-log-likelihood: n_v log sigmoid(F(v~) - F(v)), v~ = v with one
            // (fixed, randomly chosen) bit flipped.
            Matrix flipped = v;
            for (std::size_t r = 0; r < m; ++r) {
                Real& bit = flipped(r, rows_.flip_bits[r]);
                bit = bit > 0.5f ? 0.0f : 1.0f;
            }
            const DVector ff = rbm.free_energy(flipped);
            double pll = 0.0;
            for (std::size_t r = 0; r < m; ++r) pll += -softplus(-(ff(r) - f(r)));
            s.pseudo_log_likelihood = static_cast<double>(nv) * pll / static_cast<double>(m);
        }
    }
    return s;
}

}  // namespace dbn
