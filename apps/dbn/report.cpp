#include "report.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace dbn::cli {

void print_checks(std::ostream& out, const std::vector<estimate::LayerLogZ>& log_z,
                  const std::vector<estimate::ConsistencyCheck>& checks) {
    char buf[256];
    if (!log_z.empty()) out << "  log Z per layer:\n";
    for (const auto& z : log_z) {
        if (!z.available) {
            out << "    layer " << z.index << ": n/a (" << z.note << ")\n";
            continue;
        }
        std::snprintf(buf, sizeof buf, "    layer %zu: %12.4f  [%.4f, %.4f]  %s", z.index,
                      z.log_z.value, z.log_z.low, z.log_z.high, z.method.c_str());
        out << buf;
        if (z.method == "ais")
            out << " (" << z.ais_runs << " runs x " << z.ais_steps << " steps, ESS "
                << static_cast<int>(z.ess + 0.5) << ")";
        out << "\n";
    }
    if (checks.empty()) return;
    out << "  consistency checks (D = dF - dlogZ: change of the DBN bound, nats per sample):\n";
    std::snprintf(buf, sizeof buf, "    %-6s %11s %11s %11s %25s  %s\n", "layers", "dF", "dlogZ", "D",
                  "D interval", "result");
    out << buf;
    for (const auto& c : checks) {
        const std::string pair = std::to_string(c.lower) + "->" + std::to_string(c.upper);
        if (!c.applicable) {
            out << "    " << pair << "   n/a (" << c.note << ")\n";
            continue;
        }
        const char* result = estimate::check_verdict(c);
        std::snprintf(buf, sizeof buf, "    %-6s %+11.4f %+11.4f %+11.4f  [%+10.4f, %+10.4f]  %s%s\n",
                      pair.c_str(), c.free_energy_gap, c.delta_log_z, c.bound_change,
                      c.bound_change_low, c.bound_change_high, result,
                      c.diagnostic ? " (diagnostic)" : "");
        out << buf;
    }
}

nlohmann::json fine_tuned_json(const finetune::FineTuned& ft) {
    using json = nlohmann::json;
    const finetune::FineTuneConfig& c = ft.config;
    json out = {{"mode", to_string(ft.mode)},
                {"settings",
                 {{"optimizer", to_string(c.optimizer)},
                  {"learning_rate", c.effective_learning_rate()},
                  {"learning_rate_decay", c.learning_rate_decay},
                  {"momentum", c.momentum},
                  {"batch_size", c.batch_size},
                  {"epochs", c.epochs},
                  {"patience", c.patience},
                  {"weight_decay", c.weight_decay},
                  {"dropout", c.dropout},
                  {"input_dropout", c.input_dropout},
                  {"validation_fraction", c.validation_fraction},
                  {"init", to_string(c.init)},
                  {"head_only", c.head_only},
                  {"seed", c.seed}}},
                {"best_epoch", ft.best_epoch}};
    if (ft.mode == finetune::FineTuneMode::classifier) {
        out["classes"] = std::vector<std::int32_t>(ft.classes.begin(), ft.classes.end());
        out["head_weights_shape"] = {ft.head.n_in(), ft.head.n_out()};
    } else {
        out["settings"]["loss"] = to_string(c.loss);
        out["linear_code"] = ft.linear_code;
        json dec = json::array();
        for (std::size_t k = 0; k < ft.decoder.size(); ++k)
            dec.push_back({{"index", k},
                           {"units", to_string(ft.decoder[k].activation)},
                           {"weights_shape", {ft.decoder[k].n_in(), ft.decoder[k].n_out()}}});
        out["decoder"] = dec;
    }
    json hist = json::array();
    for (const auto& e : ft.history)
        hist.push_back({{"epoch", e.epoch},
                        {"loss", number(e.loss)},
                        {"train_accuracy", number(e.train_accuracy)},
                        {"valid_accuracy", number(e.valid_accuracy)},
                        {"train_reconstruction_error", number(e.train_reconstruction_error)},
                        {"valid_reconstruction_error", number(e.valid_reconstruction_error)},
                        {"learning_rate", number(e.learning_rate)},
                        {"seconds", number(e.seconds)}});
    out["history"] = hist;
    return out;
}

void print_fine_tuned(std::ostream& out, const finetune::FineTuned& ft) {
    const finetune::FineTuneConfig& c = ft.config;
    const bool classifier = ft.mode == finetune::FineTuneMode::classifier;
    out << "  fine-tuned: " << to_string(ft.mode);
    if (classifier) {
        out << ", " << ft.classes.size() << " classes (";
        for (std::size_t i = 0; i < ft.classes.size(); ++i) out << (i ? " " : "") << ft.classes(i);
        out << "), head [" << ft.head.n_in() << ", " << ft.head.n_out() << "]";
    } else {
        out << ", decoder";
        for (std::size_t k = ft.decoder.size(); k-- > 0;)
            out << " " << ft.decoder[k].n_in() << "->" << ft.decoder[k].n_out() << " "
                << to_string(ft.decoder[k].activation);
        out << (ft.linear_code ? ", linear code" : "") << ", loss " << to_string(c.loss);
    }
    out << "\n    settings: " << to_string(c.optimizer) << " lr " << c.effective_learning_rate()
        << " (decay " << c.learning_rate_decay << ")";
    if (c.optimizer == finetune::OptimizerKind::sgd) out << ", momentum " << c.momentum;
    out << ", batch " << c.batch_size << ", up to " << c.epochs << " epochs, patience "
        << c.patience << ", weight decay " << c.weight_decay;
    if (c.dropout > 0 || c.input_dropout > 0)
        out << ", dropout " << c.dropout << " (input " << c.input_dropout << ")";
    out << ", init " << to_string(c.init)
        << (c.head_only ? ", head only" : "") << ", seed " << c.seed << "; best epoch "
        << ft.best_epoch << " of " << ft.history.size() << "\n";
    for (const auto& e : ft.history) {
        char buf[200];
        if (classifier) {
            std::snprintf(buf, sizeof buf,
                          "    epoch %3zu: loss %.5f  train acc %.4f  valid acc %.4f  %.1fs%s\n",
                          e.epoch, e.loss, e.train_accuracy, e.valid_accuracy, e.seconds,
                          e.epoch == ft.best_epoch ? "  (kept)" : "");
        } else {
            std::snprintf(buf, sizeof buf,
                          "    epoch %3zu: loss %.5f  train recon %.6f  valid recon %.6f  %.1fs%s\n",
                          e.epoch, e.loss, e.train_reconstruction_error,
                          e.valid_reconstruction_error, e.seconds,
                          e.epoch == ft.best_epoch ? "  (kept)" : "");
        }
        out << buf;
    }
}

}  // namespace dbn::cli
