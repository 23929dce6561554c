#include "dbn/train/trainer_workspace.hpp"

#include <algorithm>
#include <cstring>

#include "dbn/core/blas.hpp"
#include "dbn/core/parallel.hpp"
#include "dbn/core/vector_math.hpp"

namespace dbn {

TrainerWorkspace::TrainerWorkspace()
    : v0(Matrix::from_shape({0, 0})), act0(Matrix::from_shape({0, 0})) {}

TrainerWorkspace::TrainerWorkspace(std::size_t n_visible, std::size_t n_hidden,
                                   std::size_t batch_size, std::size_t max_negatives, bool sparsity)
    : v0(Matrix::from_shape({batch_size, n_visible})),
      act0(Matrix::from_shape({batch_size, n_hidden})) {
    const std::size_t ld = batch_size + max_negatives;
    x.assign((n_visible + 1) * ld, 0.0f);
    y.assign(ld * (n_hidden + 1), 0.0f);
    if (sparsity) chunk_hsum.assign(k_chunks * n_hidden, 0.0);
}

TrainerWorkspace::~TrainerWorkspace() = default;
TrainerWorkspace::TrainerWorkspace(TrainerWorkspace&&) noexcept = default;
TrainerWorkspace& TrainerWorkspace::operator=(TrainerWorkspace&&) noexcept = default;

void TrainerWorkspace::run(std::size_t threads, const std::function<void(std::size_t)>& body) {
    if (threads <= 1) {
        body(0);
        return;
    }
    if (!pool_ || pool_->size() != threads) pool_ = std::make_unique<ThreadPool>(threads);
    // Our threads run single-threaded products: BLAS threads would only compete with them.
    const blas::ScopedThreads blas_threads(1);
    team_running_ = true;
    try {
        pool_->run(body);
    } catch (...) {
        team_running_ = false;
        throw;
    }
    team_running_ = false;
}

bool TrainerWorkspace::barrier() { return team_running_ ? pool_->barrier() : true; }

void TrainerWorkspace::release_team() { pool_.reset(); }

void TrainerWorkspace::draw_substreams(Rng& rng, std::size_t n_batches) {
    streams_.resize(n_batches * k_chunks);
    for (auto& st : streams_) {
        st = rng;
        rng.jump();
    }
}

void TrainerWorkspace::to_columns(ConstRows m, float factor, std::size_t ld, std::size_t col) {
    const std::size_t nv = m.cols;
    for (std::size_t i = 0; i < nv; ++i) {
        float* out = x.data() + i * ld + col;
        const Real* in = m.data + i;
        for (std::size_t r = 0; r < m.rows; ++r) out[r] = factor * in[r * nv];
    }
    float* ones = x.data() + nv * ld + col;
    for (std::size_t r = 0; r < m.rows; ++r) ones[r] = factor;
}

void TrainerWorkspace::up_into_y(const Rbm& rbm, ConstRows v, std::size_t y_first, Rows act) {
    const std::size_t nh = rbm.n_hidden();
    float* yv = y.data() + y_first * (nh + 1);
    rbm.hidden_activation(v, act);  // biases, then one product with beta = 1
    if (rbm.hidden_units().binary()) {
        vec::sigmoid(act.data, act.data, act.rows * nh);
        for (std::size_t r = 0; r < v.rows; ++r) {
            float* yr = yv + r * (nh + 1);
            std::memcpy(yr, act.row(r), nh * sizeof(Real));
            yr[nh] = 1.0f;
        }
    } else {
        for (std::size_t r = 0; r < v.rows; ++r) {
            const Real* a = act.row(r);
            float* yr = yv + r * (nh + 1);
            for (std::size_t j = 0; j < nh; ++j) yr[j] = a[j] > 0.0f ? a[j] : 0.0f;
            yr[nh] = 1.0f;
        }
    }
}

void TrainerWorkspace::positive_phase(const Rbm& rbm, const Matrix& data, const std::size_t* order,
                                      const MinibatchShape& s, std::size_t r0, std::size_t r1) {
    if (r0 == r1) return;
    const std::size_t n = r1 - r0;
    Rows v = Rows(v0).block(r0, n);
    const std::size_t cols = data.shape(1);
    for (std::size_t r = 0; r < n; ++r)
        std::memcpy(v.row(r), data.data() + order[s.first + r0 + r] * cols, cols * sizeof(Real));
    to_columns(v, 1.0f, s.ld, r0);
    up_into_y(rbm, v, r0, Rows(act0).block(r0, n));
    if (chunk_hsum.empty()) return;
    const std::size_t nh = rbm.n_hidden();
    for (std::size_t c = 0; c < k_chunks; ++c) {
        const std::size_t a = std::max(chunk_start(s.rows, c), r0);
        const std::size_t b = std::min(chunk_start(s.rows, c + 1), r1);
        double* sum = chunk_hsum.data() + c * nh;
        if (a >= b) continue;
        std::fill(sum, sum + nh, 0.0);
        for (std::size_t r = a; r < b; ++r) {
            const float* yr = y.data() + r * (nh + 1);
            for (std::size_t j = 0; j < nh; ++j) sum[j] += yr[j];
        }
    }
}

}  // namespace dbn
