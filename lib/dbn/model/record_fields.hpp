#pragma once

// The field table of every record a model file holds (docs/FORMAT.md): the one list of names
// that the configuration parser, the model file's reader and writer, `dbn info` and `dbn eval`
// (JSON and text) walk. A new member of one of these records needs one row here (the test
// tests/model/record_fields_test.cpp fails until it has one) and one line in the docs.

#include <vector>

#include "dbn/estimate/check_types.hpp"
#include "dbn/finetune/fine_tune_config.hpp"
#include "dbn/model/fields.hpp"
#include "dbn/train/divergence.hpp"
#include "dbn/train/epoch_stats.hpp"
#include "dbn/train/training_config.hpp"

namespace dbn {

/// @brief The field table of record type R, in the order the text rendering shows the fields.
/// Defined for the records below.
template <class R>
const std::vector<Field<R>>& fields_of();

/// Training settings of a layer: `defaults` and `layers[k]` of a configuration, attributes of
/// /training/layers/<k>, `training` of a layer in `dbn info --json`.
template <>
const std::vector<Field<LayerTrainingConfig>>& fields_of<LayerTrainingConfig>();
/// Per-epoch monitors: columns of /training/layers/<k>, `monitors` in `dbn info --json`.
template <>
const std::vector<Field<EpochStats>>& fields_of<EpochStats>();
/// A rollback of the divergence guard: attributes of /training/layers/<k>/divergence_events/<i>
/// (and of a checkpoint's trainer/divergence_events/<i>), `divergence_events` of a layer (info).
template <>
const std::vector<Field<DivergenceEvent>>& fields_of<DivergenceEvent>();
/// log Z of a layer: attributes of /checks/log_z/<k>, `log_z` (info) and `layers` (eval).
template <>
const std::vector<Field<estimate::LayerLogZ>>& fields_of<estimate::LayerLogZ>();
/// The check of a pair of layers: attributes of /checks/pairs/<k>, `checks` (info and eval).
template <>
const std::vector<Field<estimate::ConsistencyCheck>>& fields_of<estimate::ConsistencyCheck>();
/// Bound-guided training: columns of /training/layers/<k>/bound, `bound` of a layer (info).
template <>
const std::vector<Field<estimate::BoundPoint>>& fields_of<estimate::BoundPoint>();
/// Fine-tuning settings: attributes of /fine_tuning, `fine_tuned.settings` (info).
template <>
const std::vector<Field<finetune::FineTuneConfig>>& fields_of<finetune::FineTuneConfig>();
/// Fine-tuning history: columns of /fine_tuning/history, `fine_tuned.history` (info).
template <>
const std::vector<Field<finetune::FineTuneEpoch>>& fields_of<finetune::FineTuneEpoch>();

}  // namespace dbn
