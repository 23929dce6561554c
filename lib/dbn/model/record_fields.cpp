#include "dbn/model/record_fields.hpp"

#include <cmath>
#include <string>

#include "dbn/core/error.hpp"
#include "dbn/core/plural.hpp"

namespace dbn {
namespace {

constexpr unsigned k_everywhere = in_file | in_json | in_config;
constexpr unsigned k_file_json = in_file | in_json;

template <class R>
Field<R> computed(const char* name, FieldKind kind, unsigned use, const char* doc,
                  typename Field<R>::Getter get, typename Field<R>::Setter set) {
    Field<R> f{name, kind, use, doc, get};
    f.set = set;
    return f;
}

/// @brief Calls parse(name), prefixing a ConfigError's message with `where` (the parsers of the
/// fine-tuning names do not take one).
template <class Parse>
auto parse_at(Parse parse, const FieldValue& v, const std::string& where) {
    try {
        return parse(std::get<std::string>(v));
    } catch (const ConfigError& e) {
        throw ConfigError(where + ": " + e.what());
    }
}

FieldValue text_of(const char* s) { return std::string(s); }

}  // namespace

template <>
const std::vector<Field<LayerTrainingConfig>>& fields_of<LayerTrainingConfig>() {
    using C = LayerTrainingConfig;
    static const std::vector<Field<C>> table = {
        computed<C>(
            "algorithm", FieldKind::choice, k_everywhere,
            "negative phase: \"cd\", \"pcd\" or \"exact\"",
            [](const C& c) { return text_of(to_string(c.algorithm)); },
            [](C& c, const FieldValue& v, const std::string& where) {
                c.algorithm = parse_algorithm(std::get<std::string>(v), where);
            })
            .as_text("%s"),
        member<&C::k>("k", k_everywhere, "Gibbs steps per update").as_text("-%" PRIu64),
        member<&C::persistent_chains>("persistent_chains", k_everywhere,
                                      "PCD chains; 0 = the batch size"),
        member<&C::epochs>("epochs", k_everywhere, "passes over the data")
            .as_text(", %s", nullptr,
                     [](const C& c) -> FieldValue { return counted(c.epochs, "epoch"); }),
        member<&C::batch_size>("batch_size", k_everywhere, "rows per update")
            .as_text(", batch %" PRIu64),
        member<&C::learning_rate>("learning_rate", k_everywhere, "step size").as_text(", lr %g"),
        member<&C::learning_rate_decay>("learning_rate_decay", k_everywhere,
                                        "epoch e uses learning_rate * decay^(e-1)")
            .as_text(" (decay %g)"),
        member<&C::initial_momentum>("initial_momentum", k_everywhere,
                                     "momentum of the first momentum_switch_epoch epochs")
            .as_text(", momentum %g"),
        member<&C::final_momentum>("final_momentum", k_everywhere, "momentum afterwards")
            .as_text(" -> %g"),
        member<&C::momentum_switch_epoch>("momentum_switch_epoch", k_everywhere,
                                          "epochs run with the initial momentum")
            .as_text(" after %" PRIu64),
        member<&C::weight_decay>("weight_decay", k_everywhere, "L2 penalty on the weights")
            .as_text(", weight decay %g"),
        member<&C::l1>("l1", k_everywhere, "L1 penalty on the weights")
            .as_text(", l1 %g", [](const C& c) { return c.l1 > 0; }),
        member<&C::sparsity_target>("sparsity_target", k_everywhere,
                                    "target mean hidden activation; 0 = off")
            .as_text(", sparsity %g", [](const C& c) { return c.sparsity_target > 0; }),
        member<&C::sparsity_cost>("sparsity_cost", k_everywhere, "strength of the sparsity penalty")
            .as_text(" (cost %g)", [](const C& c) { return c.sparsity_target > 0; }),
        member<&C::sparsity_decay>("sparsity_decay", k_everywhere,
                                   "decay of the running mean of the activations"),
        member<&C::init_stddev>("init_stddev", k_everywhere,
                                "weights start from N(0, init_stddev^2)"),
        member<&C::sample_up>("sample_up", k_everywhere,
                              "binary samples, not probabilities, feed the next layer"),
        member<&C::monitor_samples>("monitor_samples", k_everywhere,
                                    "rows used by the per-epoch monitors"),
        member<&C::max_divergence_events>(
            "max_divergence_events", k_everywhere,
            "the divergence event that stops the layer (the guard rolls back and halves the "
            "learning rate before it); 0 = off")
            .added_later(),
    };
    return table;
}

template <>
const std::vector<Field<EpochStats>>& fields_of<EpochStats>() {
    using S = EpochStats;
    static const std::vector<Field<S>> table = {
        member<&S::layer>("layer", in_nothing, "the layer (the record's place in the file)"),
        member<&S::epoch>("epoch", k_file_json, "1-based").as_text("    epoch %3" PRIu64 ":"),
        member<&S::reconstruction_error>("reconstruction_error", k_file_json,
                                         "mean squared v0 - p(v | h0 sampled), per unit")
            .as_text(" recon %.5f"),
        member<&S::free_energy_train>("free_energy_train", k_file_json,
                                      "mean free energy of a training subset"),
        member<&S::free_energy_valid>("free_energy_valid", k_file_json,
                                      "mean free energy of held-out rows (NaN without)"),
        member<&S::free_energy_gap>("free_energy_gap", k_file_json,
                                    "valid - train: widening means overfitting")
            .as_text("  F gap %+.3f", [](const S& s) { return std::isfinite(s.free_energy_gap); }),
        member<&S::pseudo_log_likelihood>("pseudo_log_likelihood", k_file_json,
                                          "per sample, Bernoulli visible units (NaN otherwise)")
            .as_text("  PLL %.3f",
                     [](const S& s) { return std::isfinite(s.pseudo_log_likelihood); }),
        member<&S::learning_rate>("learning_rate", k_file_json, "learning rate of the epoch"),
        member<&S::momentum>("momentum", k_file_json, "momentum of the epoch"),
        member<&S::seconds>("seconds", k_file_json, "wall time of the epoch's training")
            .as_text("  %.2fs"),
    };
    return table;
}

template <>
const std::vector<Field<DivergenceEvent>>& fields_of<DivergenceEvent>() {
    using D = DivergenceEvent;
    static const std::vector<Field<D>> table = {
        member<&D::layer>("layer", in_nothing, "the layer (the record's place in the file)"),
        member<&D::epoch>("epoch", k_file_json, "1-based epoch whose end failed the check")
            .as_text("    divergence at epoch %" PRIu64),
        member<&D::minibatch>("minibatch", k_file_json, "minibatches of that epoch run")
            .as_text(" (%" PRIu64 " minibatches)"),
        member<&D::reason>("reason", k_file_json,
                           "\"non-finite parameters\", \"non-finite monitor\", \"non-finite "
                           "reconstruction\" or \"spread\"")
            .as_text(": %s"),
        member<&D::learning_rate_before>("learning_rate_before", k_file_json,
                                         "learning rate of the failed epoch")
            .as_text("; rolled back, lr %g"),
        member<&D::learning_rate_after>("learning_rate_after", k_file_json,
                                        "learning rate of the epoch run again")
            .as_text(" -> %g"),
    };
    return table;
}

template <>
const std::vector<Field<estimate::LayerLogZ>>& fields_of<estimate::LayerLogZ>() {
    using Z = estimate::LayerLogZ;
    static const auto available = [](const Z& z) { return z.available; };
    static const auto ais = [](const Z& z) {
        return z.available && (z.method == "ais" || z.method == "turned_over_path");
    };
    static const std::vector<Field<Z>> table = {
        member<&Z::index>("index", in_json, "the layer (in the file: the group's name)")
            .as_text("    layer %" PRIu64 ":"),
        member<&Z::available>("available", k_file_json,
                              "false for relu hidden units (no closed-form free energy)"),
        member<&Z::note>("note", k_file_json, "why not available")
            .json_when([](const Z& z) { return !z.available; })
            .as_text(" n/a (%s)", [](const Z& z) { return !z.available; }),
        computed<Z>(
            "log_z", FieldKind::real, k_file_json, "log Z",
            [](const Z& z) -> FieldValue { return z.log_z.value; },
            [](Z& z, const FieldValue& v, const std::string&) {
                z.log_z.value = std::get<double>(v);
            })
            .formerly("value")
            .json_when(available)
            .as_text(" %12.4f", available),
        computed<Z>(
            "log_z_low", FieldKind::real, k_file_json,
            "low end of log Z's interval (AIS: log(mean w - 3 s.e.) + log Z_base; may "
            "be -inf)",
            [](const Z& z) -> FieldValue { return z.log_z.low; },
            [](Z& z, const FieldValue& v, const std::string&) {
                z.log_z.low = std::get<double>(v);
            })
            .formerly("low")
            .json_when(available)
            .as_text("  [%.4f", available),
        computed<Z>(
            "log_z_high", FieldKind::real, k_file_json, "high end of log Z's interval",
            [](const Z& z) -> FieldValue { return z.log_z.high; },
            [](Z& z, const FieldValue& v, const std::string&) {
                z.log_z.high = std::get<double>(v);
            })
            .formerly("high")
            .json_when(available)
            .as_text(", %.4f]", available),
        computed<Z>(
            "log_z_method", FieldKind::text, k_file_json,
            "\"exact\" or \"ais\" (empty when not available)",
            [](const Z& z) -> FieldValue { return z.method; },
            [](Z& z, const FieldValue& v, const std::string&) {
                z.method = std::get<std::string>(v);
            })
            .formerly("method")
            .json_when(available)
            .as_text("  %s", available),
        member<&Z::ais_runs>("ais_runs", k_file_json, "AIS runs (0 for exact)")
            .json_when(ais)
            .as_text(" (%" PRIu64 " runs", ais),
        member<&Z::ais_steps>("ais_steps", k_file_json, "AIS temperatures (0 for exact)")
            .json_when(ais)
            .as_text(" x %" PRIu64 " steps", ais),
        computed<Z>(
            "ais_effective_sample_size", FieldKind::real, k_file_json,
            "AIS effective sample size of the weights",
            [](const Z& z) -> FieldValue { return z.ess; },
            [](Z& z, const FieldValue& v, const std::string&) { z.ess = std::get<double>(v); })
            .formerly("ess")
            .json_when(ais)
            .as_text(", ESS %" PRIu64 ")", ais,
                     [](const Z& z) -> FieldValue {
                         return static_cast<std::uint64_t>(static_cast<int>(z.ess + 0.5));
                     }),
        member<&Z::seconds>("seconds", k_file_json, "time the estimate took").json_when(available),
    };
    return table;
}

template <>
const std::vector<Field<estimate::BoundPoint>>& fields_of<estimate::BoundPoint>() {
    using B = estimate::BoundPoint;
    static const std::vector<Field<B>> table = {
        member<&B::epoch>("epoch", k_file_json, "epochs trained (0: the initial parameters)"),
        member<&B::free_energy_gap>("free_energy_gap", k_file_json, "dF_k on the check set"),
        member<&B::delta_log_z>("delta_log_z", k_file_json, "dlogZ_k along the parameter path"),
        member<&B::delta_log_z_low>("delta_log_z_low", k_file_json, "its interval, low end"),
        member<&B::delta_log_z_high>("delta_log_z_high", k_file_json, "its interval, high end"),
        member<&B::bound_change>("bound_change", k_file_json, "D_k = dF_k - dlogZ_k"),
        member<&B::bound_change_low>("bound_change_low", k_file_json, "its interval, low end"),
        member<&B::bound_change_high>("bound_change_high", k_file_json, "its interval, high end"),
        member<&B::ess>("ess", k_file_json, "effective runs of the path's weights"),
        member<&B::seconds>("seconds", k_file_json, "wall time of the estimate"),
    };
    return table;
}

template <>
const std::vector<Field<estimate::ConsistencyCheck>>& fields_of<estimate::ConsistencyCheck>() {
    using C = estimate::ConsistencyCheck;
    static const auto applicable = [](const C& c) { return c.applicable; };
    static const std::vector<Field<C>> table = {
        member<&C::lower>("lower", k_file_json, "the lower layer k")
            .as_text("    %s", nullptr,
                     [](const C& c) -> FieldValue {
                         std::string pair =
                             std::to_string(c.lower) + "->" + std::to_string(c.upper);
                         // The table's first column, 6 wide, when figures follow.
                         if (c.applicable && pair.size() < 6) pair.resize(6, ' ');
                         return pair;
                     }),
        member<&C::upper>("upper", k_file_json, "the upper layer k+1"),
        member<&C::applicable>("applicable", k_file_json,
                               "false when a layer has relu hidden units"),
        member<&C::note>("note", k_file_json, "why not applicable, or what makes it diagnostic")
            .json_when([](const C& c) { return !c.note.empty(); })
            .as_text("   n/a (%s)", [](const C& c) { return !c.applicable; }),
        member<&C::samples>("samples", k_file_json, "rows of the check set").json_when(applicable),
        member<&C::free_energy_gap>("free_energy_gap", k_file_json,
                                    "dF = mean [G_k(q) - F_{k+1}(q)]")
            .json_when(applicable)
            .as_text(" %+11.4f", applicable),
        member<&C::free_energy_gap_standard_error>("free_energy_gap_standard_error", k_file_json,
                                                   "standard error of dF over the samples")
            .formerly("free_energy_gap_se")
            .json_when(applicable),
        member<&C::delta_log_z>("delta_log_z", k_file_json, "dlogZ = log Z_{k+1} - log Z_k")
            .json_when(applicable)
            .as_text(" %+11.4f", applicable),
        member<&C::delta_log_z_low>("delta_log_z_low", k_file_json, "low end of dlogZ's interval")
            .json_when(applicable),
        member<&C::delta_log_z_high>("delta_log_z_high", k_file_json,
                                     "high end of dlogZ's interval")
            .json_when(applicable),
        member<&C::delta_log_z_method>("delta_log_z_method", k_file_json,
                                       "how dlogZ was estimated: independent or turned_over_path")
            .json_when(applicable)
            .added_later(),
        member<&C::bound_change>("bound_change", k_file_json,
                                 "D = dF - dlogZ, the change of the DBN's bound")
            .json_when(applicable)
            .as_text(" %+11.4f", applicable),
        member<&C::bound_change_low>("bound_change_low", k_file_json, "low end of D's interval")
            .json_when(applicable)
            .as_text("  [%+10.4f", applicable),
        member<&C::bound_change_high>("bound_change_high", k_file_json, "high end of D's interval")
            .json_when(applicable)
            .as_text(", %+10.4f]", applicable),
        member<&C::passed>("passed", k_file_json,
                           "false when D is below zero beyond its interval (JSON: null when not "
                           "applicable)")
            .shown_as([](const C& c) -> FieldValue {
                if (!c.applicable) return std::monostate{};
                return c.passed;
            }),
        computed<C>(
            "verdict", FieldKind::text, in_json, "the result in words (check_verdict)",
            [](const C& c) { return text_of(estimate::check_verdict(c)); }, nullptr)
            .json_when(applicable)
            .as_text("  %s", applicable),
        member<&C::diagnostic>("diagnostic", k_file_json, "a hook sits between the layers")
            .as_text(" (diagnostic)", [](const C& c) { return c.applicable && c.diagnostic; }),
        member<&C::runs_added>("runs_added", k_file_json,
                               "AIS runs added to the two layers for this check (target width)")
            .json_when(applicable)
            .added_later(),
        member<&C::runs_stopped_by>("runs_stopped_by", k_file_json,
                                    "what stopped adding runs: \"target width\", \"time "
                                    "budget\" or \"run limit\" (empty: no runs to add)")
            .json_when([](const C& c) { return c.applicable && !c.runs_stopped_by.empty(); })
            .added_later()
            .as_text("  (AIS runs added; stopped by the %s)",
                     [](const C& c) { return c.applicable && c.runs_added > 0; }),
    };
    return table;
}

template <>
const std::vector<Field<finetune::FineTuneConfig>>& fields_of<finetune::FineTuneConfig>() {
    using C = finetune::FineTuneConfig;
    static const std::vector<Field<C>> table = {
        computed<C>(
            "mode", FieldKind::choice, in_file, "\"classifier\" or \"autoencoder\"",
            [](const C& c) { return text_of(to_string(c.mode)); },
            [](C& c, const FieldValue& v, const std::string& where) {
                c.mode = parse_at(finetune::parse_fine_tune_mode, v, where);
            }),
        computed<C>(
            "optimizer", FieldKind::choice, k_file_json, "\"sgd\" or \"adam\"",
            [](const C& c) { return text_of(to_string(c.optimizer)); },
            [](C& c, const FieldValue& v, const std::string& where) {
                c.optimizer = parse_at(finetune::parse_optimizer, v, where);
            })
            .as_text("%s"),
        member<&C::learning_rate>("learning_rate", k_file_json,
                                  "step size; 0 = the optimizer's default (JSON: the rate in use)")
            .shown_as([](const C& c) -> FieldValue { return c.effective_learning_rate(); })
            .as_text(" lr %g"),
        member<&C::learning_rate_decay>("learning_rate_decay", k_file_json,
                                        "multiplies the learning rate after every epoch")
            .as_text(" (decay %g)"),
        member<&C::momentum>("momentum", k_file_json, "SGD momentum")
            .as_text(", momentum %g",
                     [](const C& c) { return c.optimizer == finetune::OptimizerKind::sgd; }),
        member<&C::batch_size>("batch_size", k_file_json, "rows per update")
            .as_text(", batch %" PRIu64),
        member<&C::epochs>("epochs", k_file_json, "maximum number of epochs")
            .as_text(", up to %s", nullptr,
                     [](const C& c) -> FieldValue { return counted(c.epochs, "epoch"); }),
        member<&C::patience>("patience", k_file_json,
                             "epochs without a better validation figure before stopping")
            .as_text(", patience %" PRIu64),
        member<&C::weight_decay>("weight_decay", k_file_json, "L2 penalty on the weights")
            .as_text(", weight decay %g"),
        member<&C::dropout>("dropout", k_file_json, "dropout probability of the hidden values")
            .as_text(", dropout %g",
                     [](const C& c) { return c.dropout > 0 || c.input_dropout > 0; }),
        member<&C::input_dropout>("input_dropout", k_file_json,
                                  "dropout probability of the input values")
            .as_text(" (input %g)",
                     [](const C& c) { return c.dropout > 0 || c.input_dropout > 0; }),
        computed<C>(
            "init", FieldKind::choice, k_file_json, "\"pretrained\", \"normal\" or \"glorot\"",
            [](const C& c) { return text_of(to_string(c.init)); },
            [](C& c, const FieldValue& v, const std::string& where) {
                c.init = parse_at(finetune::parse_init_scheme, v, where);
            })
            .as_text(", init %s"),
        member<&C::head_only>("head_only", k_file_json,
                              "classifier: only the softmax layer was trained")
            .as_text(", head only", [](const C& c) { return c.head_only; }),
        member<&C::seed>("seed", k_file_json, "seed of the split, the initial head, the shuffles")
            .as_text(", seed %" PRIu64),
        member<&C::beta1>("beta1", in_file, "Adam's first moment decay"),
        member<&C::beta2>("beta2", in_file, "Adam's second moment decay"),
        member<&C::epsilon>("epsilon", in_file, "Adam's denominator offset"),
        member<&C::validation_fraction>("validation_fraction", k_file_json,
                                        "share of the training rows held out"),
        member<&C::init_stddev>("init_stddev", in_file, "standard deviation of the normal init"),
        member<&C::head_init_stddev>("head_init_stddev", in_file,
                                     "standard deviation of the head's initial weights"),
        member<&C::linear_code>("linear_code", in_file, "autoencoder: the code units are linear"),
        computed<C>(
            "loss", FieldKind::choice, k_file_json,
            "\"cross_entropy\" or \"squared_error\" (JSON: autoencoders)",
            [](const C& c) { return text_of(to_string(c.loss)); },
            [](C& c, const FieldValue& v, const std::string& where) {
                c.loss = parse_at(finetune::parse_loss, v, where);
            })
            .json_when([](const C& c) { return c.mode == finetune::FineTuneMode::autoencoder; }),
    };
    return table;
}

template <>
const std::vector<Field<finetune::FineTuneEpoch>>& fields_of<finetune::FineTuneEpoch>() {
    using E = finetune::FineTuneEpoch;
    static const std::vector<Field<E>> table = {
        member<&E::epoch>("epoch", k_file_json, "1-based").as_text("    epoch %3" PRIu64 ":"),
        member<&E::loss>("loss", k_file_json, "mean training loss per sample")
            .as_text(" loss %.5f"),
        member<&E::train_accuracy>("train_accuracy", k_file_json,
                                   "classifier: on the minibatches as trained")
            .as_text("  train acc %.4f"),
        member<&E::valid_accuracy>("valid_accuracy", k_file_json, "classifier: on validation")
            .as_text("  valid acc %.4f"),
        member<&E::train_reconstruction_error>("train_reconstruction_error", k_file_json,
                                               "autoencoder: mean squared error per unit")
            .as_text("  train recon %.6f"),
        member<&E::valid_reconstruction_error>("valid_reconstruction_error", k_file_json,
                                               "autoencoder: on validation")
            .as_text("  valid recon %.6f"),
        member<&E::learning_rate>("learning_rate", k_file_json, "learning rate of the epoch"),
        member<&E::seconds>("seconds", k_file_json, "wall time, validation included")
            .as_text("  %.1fs"),
    };
    return table;
}

}  // namespace dbn
