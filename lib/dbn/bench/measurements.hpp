#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dbn/bench/timing.hpp"
#include "dbn/core/blas.hpp"
#include "dbn/core/types.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/dbn/dbn.hpp"
#include "dbn/estimate/ais.hpp"
#include "dbn/finetune/fine_tune_config.hpp"
#include "dbn/rbm/rbm.hpp"
#include "dbn/train/training_config.hpp"

/// The measuring code of `dbn bench`: each measurement times the library's own code and, right
/// before, the GEMM limit of the same work (its matrix products at the best rate this machine
/// gives for them), with the product shapes from the code that runs them.
namespace dbn::bench {

/// @brief The products of one minibatch of an n_visible-n_hidden RBM trained with a config,
/// as RbmTrainer::minibatch_products describes them.
using RbmProducts = std::function<std::vector<blas::GemmShape>(
    std::size_t n_visible, std::size_t n_hidden, const LayerTrainingConfig& config)>;
/// @brief The trainer's own description of its products.
RbmProducts default_rbm_products();

/// @brief How every measurement is run.
struct Settings {
    std::size_t threads = 1;          ///< threads of every measurement (BLAS threads or a split)
    int runs = 3;                     ///< timed runs of each measurement; medians are reported
    int reps = 5;                     ///< timings of each product of a limit; medians are used
    std::optional<std::size_t> rows;  ///< the data's first rows (default: all)
    std::size_t ais_steps = estimate::k_ais_default_steps;
    RbmProducts rbm_products = default_rbm_products();

    /// @brief The defaults: 3 runs, 5 timings per product, every row, AIS's default schedule;
    /// with `quick` 1 run, 3 timings, 10,000 rows, AIS's quick schedule.
    /// @pre threads >= 1
    static Settings make(bool quick, std::size_t threads);
};

/// @brief The data set scaled to [0, 1] (IDX pixels are 0..255), its first `rows` rows when
/// given, with its labels when it has them.
/// @throws what data::read_dataset throws.
data::Dataset load_data(const std::string& spec, std::optional<std::size_t> rows);

// --- the RBM -------------------------------------------------------------------------------

/// Hidden units of the benchmark's RBM (784-500 on Fashion-MNIST).
inline constexpr std::size_t k_rbm_hidden = 500;

/// @brief The training settings timed: `algorithm` with one Gibbs step, batch 100, learning
/// rate 0.05, momentum 0.5, weight decay 2e-4, one epoch.
LayerTrainingConfig rbm_config(Algorithm algorithm);

/// @brief Median seconds of one training epoch (RbmTrainer::train_epoch) of an
/// x.shape(1)-n_hidden RBM over the runs, each from a fresh model (seed 2006 + run); `model`
/// receives the last run's model.
double time_epochs(const Matrix& x, Algorithm algorithm, std::size_t threads, int runs, Rbm& model,
                   std::size_t n_hidden = k_rbm_hidden);

/// @brief CD-1 and PCD-1 epochs of an n_v-500 RBM against the limit of a CD-1 minibatch.
struct RbmMeasurement {
    std::size_t n_visible = 0, n_hidden = k_rbm_hidden, batch_size = 0, minibatches = 0;
    GemmLimit limit;             ///< of one minibatch
    double limit_seconds = NAN;  ///< of one epoch: limit.seconds x minibatches
    double cd1_seconds = NAN, pcd1_seconds = NAN;
    double cd1_seconds_1_thread = NAN;  ///< NaN when settings.threads is 1
    Rbm model;                          ///< the last CD-1 run's model (what AIS measures)
};
RbmMeasurement measure_rbm(const Matrix& x, const Settings& settings);

// --- AIS -----------------------------------------------------------------------------------

/// @brief The products of one AIS temperature of `runs` runs (the first has no down product).
std::vector<blas::GemmShape> ais_products(std::size_t runs, std::size_t n_visible,
                                          std::size_t n_hidden);

/// @brief AIS (estimate::Ais, its default runs, settings.ais_steps) of `model` with the base
/// rates of x, against settings.ais_steps times the limit of one temperature.
struct AisMeasurement {
    std::size_t runs = 0, steps = 0, groups = 0;
    double seconds = NAN, log_z = NAN;
    GemmLimit limit;             ///< of one temperature
    double limit_seconds = NAN;  ///< steps x limit.seconds
    double flops = 0.0;          ///< steps x limit.flops
};
AisMeasurement measure_ais(const Rbm& model, const Matrix& x, const Settings& settings);

// --- fine-tuning and feature extraction ----------------------------------------------------

/// Widths of the stack of Hinton & Salakhutdinov's MNIST classifier (the first becomes the
/// data's width), and its classes.
inline const std::vector<std::size_t> k_stack_widths = {784, 500, 500, 2000};
inline constexpr std::size_t k_classes = 10;

/// @brief A stack of RBMs with weights N(0, 0.01^2) and zero biases: timing needs no
/// pretraining.
Dbn random_stack(const std::vector<std::size_t>& widths, std::uint64_t seed);

/// @brief `dbn finetune`'s defaults (Adam, batch FineTuneConfig::batch_size) for a classifier,
/// one epoch over every row: nothing held out, so the epoch's time has no validation pass.
finetune::FineTuneConfig finetune_config(std::uint64_t seed);

/// @brief One fine-tuning epoch of the stack plus a softmax head of k_classes (finetune::
/// fine_tune, a fresh head from seed 1 + run) against the limit of its backpropagation
/// products (finetune::Network::training_products), each run's limit measured right before
/// its epoch, so that both see the same machine (others' work on a shared machine changes the
/// sgemm rate from minute to minute).
struct FineTuneMeasurement {
    std::vector<std::size_t> shape;  ///< widths of the network, the head's classes last
    std::size_t batch_size = 0;
    finetune::OptimizerKind optimizer = finetune::OptimizerKind::adam;
    GemmLimit limit;             ///< the first run's, of one minibatch
    double flops = 0.0;          ///< of one epoch
    double seconds = NAN;        ///< median over the runs, of one epoch
    double limit_seconds = NAN;  ///< median over the runs, of one epoch
};
/// @post data.labels: kept when they have k_classes classes, else the classes in turn (the
/// cost does not depend on them).
FineTuneMeasurement measure_finetune(const Dbn& stack, data::Dataset& data,
                                     const Settings& settings);

/// @brief The top layer's features (features::features) of every row of x, in the chunks of
/// features::extract_features() (the copy of a chunk included, the output file not), against
/// the limit of the forward products (finetune::Network::forward_products of the unrolled
/// stack) at their best rate, measured before every run.
struct FeatureMeasurement {
    std::vector<std::size_t> shape;  ///< widths of the stack
    std::size_t rows = 0, chunk_rows = 0;
    GemmLimit limit;             ///< the first run's, of one chunk
    double flops = 0.0;          ///< of every row
    double seconds = NAN;        ///< median over the runs
    double limit_seconds = NAN;  ///< median over the runs
    double rows_per_second() const { return double(rows) / seconds; }
    double limit_rows_per_second() const { return double(rows) / limit_seconds; }
};
FeatureMeasurement measure_features(const Dbn& stack, const Matrix& x, const Settings& settings);

}  // namespace dbn::bench
