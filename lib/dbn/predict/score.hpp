#pragma once

#include <cstddef>
#include <string>

#include "dbn/core/types.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/row_source.hpp"
#include "dbn/model/model_file.hpp"
#include "dbn/rbm/rbm.hpp"

namespace dbn::predict {

/// @brief The free energy F(v) of each row of v under `rbm` (Rbm::free_energy's formula through
/// the same unit families), with the activations x W formed by a double product: accurate to
/// about 1e-15 relative for Bernoulli visible units where Rbm::free_energy's float product gives
/// about 1e-7, which is what a per-row log p against an exact log Z needs (for Gaussian visible
/// units the input v / s is formed in float, as Units::scale_input does: about 1e-8).
/// @throws ConfigError for hidden units without a closed-form free energy (relu); ShapeError
///         when v's width is not the visible units'.
DVector free_energy_in_double(const Rbm& rbm, ConstRows v);

/// Most units of layer 0's smaller side for which score_log_z() enumerates log Z exactly (as the
/// stack evaluation does; docs/ARCHITECTURE.md, "The checks").
inline constexpr std::size_t k_score_exact_units = 20;

/// @brief log Z of layer 0 as write_scores() uses it.
struct ScoreLogZ {
    bool known = false;
    double value = 0.0, low = 0.0, high = 0.0;
    /// "exact" (enumerated now), or the file's record method ("exact", "ais", ...) prefixed by
    /// "file:"; when unknown, why.
    std::string method;
};

/// @brief log Z of the model's layer 0, the RBM as the file holds it: exact enumeration when its
/// smaller Bernoulli side has at most k_score_exact_units units; else the file's log Z record of
/// layer 0, unless the model is fine-tuned (the record belongs to the pretrained layer, whose
/// weights fine-tuning changed); else unknown.
ScoreLogZ score_log_z(const ModelFile& model, std::size_t threads = 2);

/// @brief Settings of write_scores().
struct ScoreOptions {
    std::size_t chunk_rows = 4096;
    std::size_t threads = 2;  ///< threads of the exact enumeration of log Z
    std::string model_file;
    data::CsvOptions csv;
};

/// @brief What write_scores() wrote.
struct ScoreSummary {
    std::size_t rows = 0;
    bool labels = false;
    ScoreLogZ log_z;
    double mean_free_energy = 0.0;
    /// mean over rows of log p(v) = -F(v) - log Z (when log_z.known)
    double mean_log_prob = 0.0;
};

/// @brief Writes, for every row v of the data (after the model's preprocessing), the free energy
/// F(v) of layer 0 (Rbm::free_energy, in double) and, when log Z of layer 0 is known
/// (score_log_z()), log p(v) = -F(v) - log Z (docs/FORMAT.md, "Prediction files"). Streams the
/// data in chunks through a temporary file renamed at the end.
/// @throws ConfigError for an unknown extension, rectified hidden units (no free energy) or
///         chunk_rows 0; ShapeError when the data's width is not the model's.
ScoreSummary write_scores(const ModelFile& model, const std::string& data_spec,
                          const std::string& out, const ScoreOptions& options = {});
ScoreSummary write_scores(const ModelFile& model, data::RowSource& rows, const std::string& out,
                          const ScoreOptions& options = {});

}  // namespace dbn::predict
