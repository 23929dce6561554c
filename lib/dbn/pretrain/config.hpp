#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dbn/estimate/ais.hpp"
#include "dbn/estimate/parameter_path_ais.hpp"
#include "dbn/hooks/layer_hook.hpp"
#include "dbn/train/training_config.hpp"
#include "dbn/units/units.hpp"

namespace dbn {

/// @brief Deepest nesting of objects and lists a configuration file may have (the top-level
/// object is level 1); deeper JSON is refused while it is parsed.
inline constexpr std::size_t k_max_config_depth = 64;
/// @brief Range of `input.scale` (it is stored as a float: beyond it, inf or 0).
inline constexpr double k_min_scale = 1e-30;
inline constexpr double k_max_scale = 1e30;
/// @brief Most AIS runs `checks.ais_runs` may ask for (as `dbn eval --ais-runs`).
inline constexpr std::size_t k_max_ais_runs = 1000000;
/// @brief Largest `checks.target_width` (nats) and `checks.time_budget` (seconds).
inline constexpr double k_max_run_target = 1e6;

/// @brief How the raw input is prepared for layer 0 (saved with the model as Preprocessing).
struct InputConfig {
    UnitType units = UnitType::bernoulli;  ///< visible units of layer 0
    float scale = 0.0f;                    ///< divide by this; 0 = "auto" (the data's max if > 1)
    bool binarize = false;
    float threshold = 0.5f;
    bool standardize = false;
    /// Gaussian inputs: "unit" (sigma = 1, for standardized data) or "data" (per-feature std).
    std::string sigma = "unit";
    /// CSV data: the label column, by header name or index, or "none" ("" = not given); the
    /// command line's --label-column wins.
    std::string label_column;
    /// CSV data: the delimiter (auto, comma, tab, semicolon, whitespace; "" = not given); the
    /// command line's --delimiter wins.
    std::string delimiter;
};

/// @brief How pretraining runs the checks (the "checks" object of a configuration).
struct CheckConfig {
    bool enabled = true;
    std::string log_z = "auto";  ///< "auto", "exact" or "ais"
    std::size_t exact_max_units = 20;
    std::size_t ais_runs = estimate::k_ais_default_runs;
    /// Pretraining uses the quick preset by default: the checks then cost a fraction of the
    /// training; `dbn eval` runs the full schedule.
    std::string ais_steps = "quick";
    /// How dlogZ of each pair is estimated: "auto" (the parameter path from the lower layer
    /// turned over where it applies, docs/CHECK.md) or "independent" (two log Z estimates).
    std::string dlogz = "auto";
    /// Temperatures of the parameter path.
    std::size_t path_steps = estimate::k_parameter_path_default_steps;
    std::uint64_t seed = 1;
    /// Check-set rows used (the validation set, else the held-out rows); 0 = all.
    std::size_t max_rows = 10000;
    /// Adaptive run counts (estimate::RunTarget): AIS runs are added to a check whose dlogZ is
    /// the difference of two AIS estimates until D's interval is closed and at most this many
    /// nats wide (0: never), or until `time_budget` seconds of added runs (0: no limit).
    double target_width = 1.0;
    double time_budget = 60.0;
};

/// @brief Bound-guided training of a layer (the "guide" key, docs/CONFIG.md): D of the pair
/// below is estimated every `every` epochs (and before the first), the parameters with the
/// largest lower end of D's interval are kept, and training stops when that has not grown for
/// `patience` estimates.
struct GuideSpec {
    bool enabled = false;
    std::size_t every = 1;
    std::size_t patience = 3;
    /// Temperatures of each estimate's parameter path (fewer than the final check's: the
    /// estimates only compare the layer with itself a few epochs earlier).
    std::size_t path_steps = 500;
};

/// @brief One layer of the stack: its hidden units and how it is trained.
struct LayerSpec {
    std::size_t n_hidden = 0;
    UnitType hidden = UnitType::bernoulli;
    LayerTrainingConfig train;
    /// Initial parameters: "random", or "turned_over" (layer k+1 starts as layer k turned over,
    /// W^T with the biases swapped, Hinton, Osindero & Teh 2006: the bound then cannot drop).
    std::string init = "random";
    /// Hook between this layer and the next: "none" or a registered kind, with its options.
    std::string hook = "none";
    HookOptions hook_options;
    GuideSpec guide;
};

/// @brief A DBN configuration, read from JSON (see docs/CONFIG.md for every key).
struct DbnConfig {
    std::string name;
    std::uint64_t seed = 1;
    InputConfig input;
    std::vector<LayerSpec> layers;
    /// Fraction of the training rows held out for the monitors when no validation set is given.
    double heldout_fraction = 0.1;
    /// The free-energy consistency checks run during pretraining.
    CheckConfig checks;
    /// Checkpoints of the program's pretraining (`dbn pretrain --checkpoint`): after every this
    /// many epochs of a layer (0: not by count), and at the first epoch end this many seconds
    /// after the last one (0: not by time); always at every layer's end.
    std::size_t checkpoint_every = 0;
    double checkpoint_seconds = 300.0;
    /// The JSON text the configuration was read from (saved with the model).
    std::string json;
    /// What it was read from (the file), for messages.
    std::string source;
};

/// @brief About how many bytes training layer `k` of `config` holds: its parameters with their
/// velocity and a kept copy, the minibatch and chain buffers, and the representation of
/// `n_rows` rows in and out (docs/CONFIG.md, "Limits"); the batch is min(batch_size, n_rows)
/// rows when n_rows > 0. Doubles: the counts are untrusted and their products may overflow.
double layer_training_bytes(const DbnConfig& config, std::size_t k, std::size_t n_visible,
                            std::size_t n_rows);

/// @brief Refuses a configuration whose layers cannot fit in this machine's memory when layer 0
/// has `n_visible` units and the data `n_rows` rows (parse_dbn_config calls it with 1 and 0,
/// the least any data needs). The message names the file, the layer and the key (hidden,
/// batch_size or persistent_chains) whose size dominates.
/// @throws ConfigError
void check_memory(const DbnConfig& config, std::size_t n_visible, std::size_t n_rows);

/// @brief Parses a configuration; `source` names it in messages.
/// @throws ConfigError for malformed JSON, unknown keys, wrong types and values out of range.
DbnConfig parse_dbn_config(const std::string& json_text, const std::string& source);

/// @brief The keys the parser accepts, by where they go: "top" (the top level), "input",
/// "checks", "layer" (a layer object; "defaults" takes them but hidden, hook, init and guide)
/// and "guide" (a layer's guide object). One table for the parser, its hints about misplaced
/// keys, and the test that docs/CONFIG.md names every key.
const std::map<std::string, std::set<std::string>>& config_keys();

/// @brief Reads and parses a configuration file.
/// @throws IoError when the file cannot be read; ConfigError as parse_dbn_config.
DbnConfig load_dbn_config(const std::string& path);

}  // namespace dbn
