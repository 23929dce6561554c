#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "dbn/core/blas.hpp"
#include "dbn/core/blas_kernel.hpp"
#include "dbn/core/version.hpp"
#include "dbn/io/model_io.hpp"
#include "report.hpp"

namespace dbn::cli {

void add_info(CLI::App& app, InfoOptions& o) {
    auto* c = app.add_subcommand("info", "Describe a model file (layers, units, shapes, training, "
                                         "monitors), or this system with --system");
    c->add_option("model", o.model, "model file (.h5)");
    c->add_flag("--json", o.json, "print one JSON object");
    c->add_flag("--system", o.system, "show the BLAS kernel, threads and library version");
}

namespace {

using json = nlohmann::json;

json system_json() {
    const char* core_env = std::getenv("OPENBLAS_CORETYPE");
    return {{"library_version", library_version},
            {"openblas_core", blas::core_name()},
            {"openblas_config", blas::config()},
            {"openblas_coretype_env", core_env ? json(core_env) : json(nullptr)},
            {"openblas_core_chosen_by", blas::to_string(blas::kernel_choice().source)},
            {"threads", blas::num_threads()},
            {"hardware_threads", std::thread::hardware_concurrency()}};
}

json training_json(const LayerTrainingConfig& c) {
    return {{"algorithm", to_string(c.algorithm)},
            {"k", c.k},
            {"persistent_chains", c.persistent_chains},
            {"epochs", c.epochs},
            {"batch_size", c.batch_size},
            {"learning_rate", c.learning_rate},
            {"learning_rate_decay", c.learning_rate_decay},
            {"initial_momentum", c.initial_momentum},
            {"final_momentum", c.final_momentum},
            {"momentum_switch_epoch", c.momentum_switch_epoch},
            {"weight_decay", c.weight_decay},
            {"l1", c.l1},
            {"sparsity_target", c.sparsity_target},
            {"sparsity_cost", c.sparsity_cost},
            {"sparsity_decay", c.sparsity_decay},
            {"init_stddev", c.init_stddev},
            {"sample_up", c.sample_up},
            {"monitor_samples", c.monitor_samples}};
}

json epoch_json(const EpochStats& s) {
    return {{"epoch", s.epoch},
            {"reconstruction_error", number(s.reconstruction_error)},
            {"free_energy_train", number(s.free_energy_train)},
            {"free_energy_valid", number(s.free_energy_valid)},
            {"free_energy_gap", number(s.free_energy_gap)},
            {"pseudo_log_likelihood", number(s.pseudo_log_likelihood)},
            {"learning_rate", number(s.learning_rate)},
            {"momentum", number(s.momentum)},
            {"seconds", number(s.seconds)}};
}

json model_json(const std::string& path, const ModelFile& m) {
    json layers = json::array();
    for (std::size_t k = 0; k < m.stack.n_layers(); ++k) {
        const Rbm& r = m.stack.layers[k];
        json l = {{"index", k},
                  {"visible_units", to_string(r.visible_type())},
                  {"hidden_units", to_string(r.hidden_type())},
                  {"n_visible", r.n_visible()},
                  {"n_hidden", r.n_hidden()},
                  {"weights_shape", {r.n_visible(), r.n_hidden()}}};
        if (k < m.records.size()) {
            l["training"] = training_json(m.records[k].config);
            json epochs = json::array();
            for (const auto& e : m.records[k].epochs) epochs.push_back(epoch_json(e));
            l["monitors"] = epochs;
        }
        layers.push_back(l);
    }
    const auto& p = m.stack.preprocessing;
    json pre = {{"scale", p.scale}, {"binarize", p.binarize}, {"standardize", p.standardize}};
    if (p.binarize) pre["threshold"] = p.threshold;
    json out = {{"file", path},
                {"format", "dbn-model"},
                {"n_layers", m.stack.n_layers()},
                {"layers", layers},
                {"preprocessing", pre},
                {"trained", !m.records.empty()}};
    if (!m.records.empty()) {
        out["seed"] = m.seed;
        out["name"] = m.name;
    }
    json hooks = json::array();
    for (std::size_t k = 0; k + 1 < m.stack.n_layers(); ++k)
        hooks.push_back(m.stack.hook_after(k) ? json(m.stack.hook_after(k)->kind()) : json("none"));
    out["hooks"] = hooks;
    json zs = json::array();
    for (const auto& z : m.log_z) zs.push_back(log_z_json(z));
    json cs = json::array();
    for (const auto& c : m.checks) cs.push_back(check_json(c));
    out["log_z"] = zs;
    out["checks"] = cs;
    out["fine_tuned"] = m.fine_tuned ? fine_tuned_json(*m.fine_tuned) : json(nullptr);
    return out;
}

void print_human(const std::string& path, const ModelFile& m) {
    std::cout << path << ": DBN with " << m.stack.n_layers() << " layer" << (m.stack.n_layers() == 1 ? "" : "s")
              << " (";
    for (std::size_t k = 0; k < m.stack.n_layers(); ++k) std::cout << (k ? "-" : "") << m.stack.layers[k].n_visible();
    std::cout << "-" << m.stack.layers.back().n_hidden() << ")";
    if (!m.name.empty()) std::cout << ", \"" << m.name << "\"";
    std::cout << "\n  preprocessing: " << m.stack.preprocessing.describe() << "\n";
    if (!m.records.empty()) std::cout << "  seed: " << m.seed << "\n";
    for (std::size_t k = 0; k < m.stack.n_layers(); ++k) {
        const Rbm& r = m.stack.layers[k];
        std::cout << "  layer " << k << ": " << r.n_visible() << " " << to_string(r.visible_type())
                  << " -> " << r.n_hidden() << " " << to_string(r.hidden_type()) << ", weights ["
                  << r.n_visible() << ", " << r.n_hidden() << "]";
        if (m.stack.hook_after(k)) std::cout << ", then hook \"" << m.stack.hook_after(k)->kind() << "\"";
        std::cout << "\n";
        if (k >= m.records.size()) continue;
        const auto& c = m.records[k].config;
        std::cout << "    training: " << to_string(c.algorithm) << "-" << c.k << ", " << c.epochs
                  << " epochs, batch " << c.batch_size << ", lr " << c.learning_rate
                  << " (decay " << c.learning_rate_decay << "), momentum " << c.initial_momentum
                  << " -> " << c.final_momentum << " after " << c.momentum_switch_epoch
                  << ", weight decay " << c.weight_decay;
        if (c.l1 > 0) std::cout << ", l1 " << c.l1;
        if (c.sparsity_target > 0) std::cout << ", sparsity " << c.sparsity_target << " (cost " << c.sparsity_cost << ")";
        std::cout << "\n";
        for (const auto& e : m.records[k].epochs) {
            std::cout << "    epoch " << std::setw(3) << e.epoch << ": recon " << std::fixed
                      << std::setprecision(5) << e.reconstruction_error << std::setprecision(3);
            if (!std::isnan(e.free_energy_gap)) std::cout << "  F gap " << std::showpos << e.free_energy_gap << std::noshowpos;
            if (!std::isnan(e.pseudo_log_likelihood)) std::cout << "  PLL " << e.pseudo_log_likelihood;
            std::cout << "  " << std::setprecision(2) << e.seconds << "s" << std::defaultfloat << "\n";
        }
    }
    print_checks(std::cout, m.log_z, m.checks);
    if (m.fine_tuned) print_fine_tuned(std::cout, *m.fine_tuned);
}

}  // namespace

int run_info(const InfoOptions& o) {
    if (o.system) {
        const json s = system_json();
        if (o.json) {
            std::cout << s.dump(2) << std::endl;
        } else {
            const blas::KernelChoice kc = blas::kernel_choice();
            std::cout << "dbn " << library_version << "\nOpenBLAS kernel: " << blas::core_name()
                      << " (chosen by " << blas::to_string(kc.source) << ": " << kc.detail << ")"
                      << "\nBLAS threads: " << blas::num_threads()
                      << "\nOPENBLAS_CORETYPE: " << (std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE") : "(not set)")
                      << "\nhardware threads: " << std::thread::hardware_concurrency()
                      << "\nOpenBLAS build: " << blas::config() << std::endl;
        }
        if (o.model.empty()) return exit_ok;
    }
    if (o.model.empty()) {
        std::cerr << "dbn: usage error: info needs a model file (or --system)" << std::endl;
        return exit_usage;
    }
    const ModelFile m = io::load_model(o.model);
    if (o.json) {
        std::cout << model_json(o.model, m).dump(2) << std::endl;
    } else {
        print_human(o.model, m);
    }
    return exit_ok;
}

}  // namespace dbn::cli
