#include <cstdlib>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "dbn/core/blas.hpp"
#include "dbn/core/blas_kernel.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/core/version.hpp"
#include "dbn/io/checkpoint_io.hpp"
#include "dbn/io/model_io.hpp"
#include "report.hpp"

namespace dbn::cli {

void add_info(CLI::App& app, InfoOptions& o) {
    auto* c = app.add_subcommand("info",
                                 "Describe a model file (layers, units, shapes, training, "
                                 "monitors), or this system with --system");
    c->add_option("model", o.model, "model file (.h5)")->check(path_validator());
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

void print_human(const std::string& path, const ModelFile& m) {
    const Dbn& s = m.stack;
    std::cout << path << ": DBN with " << s.n_layers() << " layer" << (s.n_layers() == 1 ? "" : "s")
              << " (";
    for (std::size_t k = 0; k < s.n_layers(); ++k)
        std::cout << (k ? "-" : "") << s.layers[k].n_visible();
    std::cout << "-" << s.layers.back().n_hidden() << ")";
    if (!m.name.empty()) std::cout << ", \"" << m.name << "\"";
    std::cout << "\n";
    if (!m.sample_shape.empty()) {
        std::cout << "  sample shape: ";
        for (std::size_t d = 0; d < m.sample_shape.size(); ++d)
            std::cout << (d ? " x " : "") << m.sample_shape[d];
        std::cout << "\n";
    }
    std::cout << "  preprocessing: " << s.preprocessing.describe() << "\n";
    if (m.trained()) std::cout << "  seed: " << m.seed << "\n";
    for (std::size_t k = 0; k < s.n_layers(); ++k) {
        const Rbm& r = s.layers[k];
        std::cout << "  layer " << k << ": " << r.n_visible() << " " << to_string(r.visible_type())
                  << " -> " << r.n_hidden() << " " << to_string(r.hidden_type()) << ", weights ["
                  << r.n_visible() << ", " << r.n_hidden() << "]";
        if (s.hook_after(k)) std::cout << ", then hook \"" << s.hook_after(k)->kind() << "\"";
        std::cout << "\n";
        if (k >= m.records.size()) continue;
        std::cout << "    training: "
                  << render_text(fields_of<LayerTrainingConfig>(), m.records[k].config) << "\n";
        for (const auto& e : m.records[k].epochs)
            std::cout << render_text(fields_of<EpochStats>(), e) << "\n";
        for (const auto& e : m.records[k].divergence_events)
            std::cout << render_text(fields_of<DivergenceEvent>(), e) << "\n";
        if (m.records[k].stopped_by_divergence())
            std::cout << "    stopped by the divergence guard after "
                      << counted(m.records[k].divergence_events.size(), "event")
                      << ": the layer is at its last good state, after "
                      << m.records[k].epochs.size() << " of "
                      << counted(m.records[k].config.epochs, "epoch") << "\n";
    }
    // Fine-tuning changes the layers' weights after pretraining computed these figures.
    print_checks(std::cout, m.log_z, m.checks,
                 m.fine_tuned ? "of the pretrained layers, before fine-tuning" : "");
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
                      << "\nBLAS threads: " << blas::num_threads() << "\nOPENBLAS_CORETYPE: "
                      << (std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE")
                                                           : "(not set)")
                      << "\nhardware threads: " << std::thread::hardware_concurrency()
                      << "\nOpenBLAS build: " << blas::config() << std::endl;
        }
        if (o.model.empty()) return exit_ok;
    }
    if (o.model.empty()) {
        std::cerr << "dbn: usage error: info needs a model file (or --system)" << std::endl;
        return exit_usage;
    }
    if (io::is_finetune_checkpoint(o.model)) {
        // A fine-tuning checkpoint holds no model of its own: where its run stands.
        const FineTuneCheckpoint c = io::load_finetune_checkpoint(o.model);
        if (o.json) {
            const nlohmann::json j = {{"checkpoint", "finetune"},
                                      {"model", c.model},
                                      {"out", c.out},
                                      {"mode", finetune::to_string(c.config.mode)},
                                      {"epochs", c.config.epochs},
                                      {"epochs_done", c.state.epochs_done},
                                      {"minibatch", c.state.minibatch}};
            std::cout << j.dump(2) << std::endl;
        } else {
            std::cout << o.model << ": fine-tuning checkpoint of " << c.model << " ("
                      << finetune::to_string(c.config.mode) << ", " << c.state.epochs_done << " of "
                      << counted(c.config.epochs, "epoch")
                      << " done, minibatches of the next: " << c.state.minibatch << ", writes "
                      << c.out << "); resume with: dbn finetune --resume " << o.model << std::endl;
        }
        return exit_ok;
    }
    if (!o.json && io::is_checkpoint(o.model)) {
        // A checkpoint: where its run stands, then the finished layers as a model.
        const PretrainCheckpoint c = io::load_checkpoint(o.model);
        std::cout << o.model << ": pretraining checkpoint at layer " << c.layer;
        if (c.trainer)
            std::cout << " (epochs done: " << c.trainer->position.epochs_done
                      << ", minibatches of the next: " << c.trainer->position.minibatch << ")";
        std::cout << "; resume with: dbn pretrain --resume " << o.model << std::endl;
        if (c.model.stack.n_layers() == 0) return exit_ok;
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
