#include "report.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "dbn/core/plural.hpp"
#include "dbn/dbn/dbn.hpp"
namespace dbn::cli {

using json = nlohmann::json;

json to_json(const FieldValue& v) {
    if (const auto* c = std::get_if<std::uint64_t>(&v)) return *c;
    if (const auto* d = std::get_if<double>(&v)) return number(*d);
    if (const auto* b = std::get_if<bool>(&v)) return *b;
    if (const auto* s = std::get_if<std::string>(&v)) return *s;
    return nullptr;
}

void print_checks(std::ostream& out, const std::vector<estimate::LayerLogZ>& log_z,
                  const std::vector<estimate::ConsistencyCheck>& checks, const std::string& of) {
    const std::string note = of.empty() ? "" : " (" + of + ")";
    if (!log_z.empty()) out << "  log Z per layer" << note << ":\n";
    for (const auto& z : log_z) out << render_text(fields_of<estimate::LayerLogZ>(), z) << "\n";
    if (checks.empty()) return;
    out << "  consistency checks" << note
        << " (D = dF - dlogZ: change of the DBN bound, nats per sample):\n";
    char buf[256];
    std::snprintf(buf, sizeof buf, "    %-6s %11s %11s %11s %25s  %s\n", "layers", "dF", "dlogZ",
                  "D", "D interval", "result");
    out << buf;
    for (const auto& c : checks)
        out << render_text(fields_of<estimate::ConsistencyCheck>(), c) << "\n";
}

json fine_tuned_json(const finetune::FineTuned& ft) {
    json out = {{"mode", to_string(ft.mode)},
                {"settings", record_json(ft.config)},
                {"best_epoch", ft.best_epoch},
                {"history", records_json(ft.history)}};
    if (ft.mode == finetune::FineTuneMode::classifier) {
        out["classes"] = std::vector<std::int32_t>(ft.classes.begin(), ft.classes.end());
        out["head_weights_shape"] = {ft.head.n_in(), ft.head.n_out()};
    } else {
        out["linear_code"] = ft.linear_code;
        json dec = json::array();
        for (std::size_t k = 0; k < ft.decoder.size(); ++k)
            dec.push_back({{"index", k},
                           {"units", to_string(ft.decoder[k].activation)},
                           {"weights_shape", {ft.decoder[k].n_in(), ft.decoder[k].n_out()}}});
        out["decoder"] = dec;
    }
    return out;
}

void print_fine_tuned(std::ostream& out, const finetune::FineTuned& ft) {
    const bool classifier = ft.mode == finetune::FineTuneMode::classifier;
    out << "  fine-tuned: " << to_string(ft.mode);
    if (classifier) {
        out << ", " << counted(ft.classes.size(), "class", "classes") << " (";
        for (std::size_t i = 0; i < ft.classes.size(); ++i) out << (i ? " " : "") << ft.classes(i);
        out << "), head [" << ft.head.n_in() << ", " << ft.head.n_out() << "]";
    } else {
        out << ", decoder";
        for (std::size_t k = ft.decoder.size(); k-- > 0;)
            out << " " << ft.decoder[k].n_in() << "->" << ft.decoder[k].n_out() << " "
                << to_string(ft.decoder[k].activation);
        out << (ft.linear_code ? ", linear code" : "") << ", loss " << to_string(ft.config.loss);
    }
    out << "\n    settings: " << render_text(fields_of<finetune::FineTuneConfig>(), ft.config)
        << "; best epoch " << ft.best_epoch << " of " << ft.history.size() << "\n";
    // The history shows the figures of its mode.
    const std::vector<std::string> other =
        classifier
            ? std::vector<std::string>{"train_reconstruction_error", "valid_reconstruction_error"}
            : std::vector<std::string>{"train_accuracy", "valid_accuracy"};
    for (const auto& e : ft.history)
        out << render_text(fields_of<finetune::FineTuneEpoch>(), e, other)
            << (e.epoch == ft.best_epoch ? "  (kept)" : "") << "\n";
}

json model_json(const std::string& path, const ModelFile& m) {
    const Dbn& s = m.stack;
    json layers = json::array();
    for (std::size_t k = 0; k < s.n_layers(); ++k) {
        const Rbm& r = s.layers[k];
        json l = {{"index", k},
                  {"visible_units", to_string(r.visible_type())},
                  {"hidden_units", to_string(r.hidden_type())},
                  {"n_visible", r.n_visible()},
                  {"n_hidden", r.n_hidden()},
                  {"weights_shape", {r.n_visible(), r.n_hidden()}}};
        if (k < m.records.size()) {
            l["training"] = record_json(m.records[k].config);
            l["monitors"] = records_json(m.records[k].epochs);
            l["divergence_events"] = records_json(m.records[k].divergence_events);
            l["stopped_by_divergence"] = m.records[k].stopped_by_divergence();
        }
        layers.push_back(l);
    }
    const auto& p = s.preprocessing;
    json pre = {{"scale", p.scale}, {"binarize", p.binarize}, {"standardize", p.standardize}};
    if (p.binarize) pre["threshold"] = p.threshold;
    json out = {{"file", path},     {"format", "dbn-model"}, {"n_layers", s.n_layers()},
                {"layers", layers}, {"preprocessing", pre},  {"trained", m.trained()}};
    if (m.trained()) {
        out["seed"] = m.seed;
        out["name"] = m.name;
    }
    out["sample_shape"] = m.sample_shape.empty() ? json(nullptr) : json(m.sample_shape);
    json hooks = json::array();
    for (std::size_t k = 0; k + 1 < s.n_layers(); ++k)
        hooks.push_back(s.hook_after(k) ? json(s.hook_after(k)->kind()) : json("none"));
    out["hooks"] = hooks;
    out["log_z"] = records_json(m.log_z);
    // Whose parameters log_z and checks belong to: a fine-tuned file keeps pretraining's.
    out["log_z_parameters"] = m.fine_tuned ? "pretrained" : "saved";
    out["checks"] = records_json(m.checks);
    out["fine_tuned"] = m.fine_tuned ? fine_tuned_json(*m.fine_tuned) : json(nullptr);
    return out;
}

}  // namespace dbn::cli
