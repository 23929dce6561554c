#include <iostream>

#include "commands.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/sample/sample_file.hpp"
#include "dbn/sample/sampler.hpp"

namespace dbn::cli {

void add_sample(CLI::App& app, SampleOptions& o) {
    auto* c = app.add_subcommand(
        "sample",
        "Draw samples of the model: Gibbs sampling in the top RBM, then mean-field p(v|h) down "
        "the lower layers to the visible units (and back through the preprocessing unless it "
        "binarizes)");
    c->add_option("model", o.model, "model file (.h5)")->required()->check(path_validator());
    c->add_option("--count", o.count, "samples to draw, one independent chain each (default 100)")
        ->check(count_validator());
    c->add_option("--steps", o.steps, "Gibbs steps in the top RBM (default 1000)")
        ->check(count_validator());
    c->add_option("--out", o.out,
                  "output: .h5 (float32 /samples [N, n_visible], uint8 /binary for Bernoulli "
                  "visible units; docs/FORMAT.md)")
        ->required()
        ->check(path_validator());
    c->add_option("--seed", o.seed, "random seed (default 0; the same seed gives the same file)")
        ->check(unsigned_validator());
    c->add_option("--from", o.from,
                  "data SPEC: start the chains from the data's representation at the top "
                  "(rows used in turn) instead of random states")
        ->check(path_validator());
}

int run_sample(const SampleOptions& o) {
    const std::string ext = o.out.size() >= 3 ? o.out.substr(o.out.size() - 3) : "";
    DBN_CHECK(ext == ".h5", ConfigError, "--out " << o.out << ": unknown extension (expected .h5)");
    std::vector<NamedInput> inputs = {{"the model", o.model}};
    if (o.from)
        for (const auto& f : data::spec_files(*o.from)) inputs.push_back({"--from", f});
    check_output(o.out, "--out", "the samples", inputs);
    const auto lock = guard_output(o.out);
    const ModelFile model = io::load_model(o.model);
    sample::SampleOptions options;
    options.count = o.count;
    options.steps = o.steps;
    options.seed = o.seed;
    sample::Samples samples;
    if (o.from) {
        const data::Dataset d = data::read_dataset(*o.from);
        DBN_CHECK(d.size() > 0, ConfigError, "--from " << *o.from << ": no rows");
        const Matrix start = sample::top_input(model.stack, d.x);
        samples = sample::sample_model(model.stack, options, &start);
    } else {
        samples = sample::sample_model(model.stack, options);
    }
    sample::SampleFileInfo info;
    info.steps = o.steps;
    info.seed = o.seed;
    info.model = o.model;
    info.from = o.from.value_or("");
    sample::write_sample_file(o.out, samples, info);
    std::cout << "wrote " << o.out << ": " << counted(o.count, "sample") << " of "
              << counted(samples.means.shape(1), "visible unit") << " after "
              << counted(o.steps, "Gibbs step") << std::endl;
    return exit_ok;
}

}  // namespace dbn::cli
