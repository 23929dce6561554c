#include <algorithm>
#include <iostream>
#include <optional>
#include <vector>

#include "commands.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/picture/filters.hpp"
#include "dbn/picture/image.hpp"
#include "dbn/picture/png.hpp"
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
                  "visible units; docs/FORMAT.md) or .png (a grid of the samples)")
        ->required()
        ->check(path_validator());
    c->add_option("--seed", o.seed, "random seed (default 0; the same seed gives the same file)")
        ->check(unsigned_validator());
    c->add_option("--from", o.from,
                  "data SPEC: start the chains from the data's representation at the top "
                  "(rows used in turn) instead of random states")
        ->check(path_validator());
    c->add_option("--shape", o.shape,
                  "with --out .png: tile shape HxW (default: the file's sample_shape, else a "
                  "square when n_visible is one)");
    c->add_flag("--chain", o.chain,
                "with --out .png: one row per chain, its start and its state after every tenth "
                "of the steps");
}

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

/// The steps after which --chain looks at the chains: 0, then every tenth of `steps` (each step
/// when there are at most 10).
std::vector<std::size_t> chain_steps(std::size_t steps) {
    std::vector<std::size_t> at = {0};
    const std::size_t looks = std::min<std::size_t>(steps, 10);
    for (std::size_t j = 1; j <= looks; ++j) at.push_back(steps * j / looks);
    return at;
}

}  // namespace

int run_sample(const SampleOptions& o) {
    const bool png = ends_with(o.out, ".png");
    if (png)
        picture::check_png_output(o.out);
    else
        DBN_CHECK(ends_with(o.out, ".h5"), ConfigError,
                  "--out " << o.out << ": unknown extension (expected .h5 or .png)");
    DBN_CHECK(png || !o.chain, ConfigError,
              "--chain draws a picture: give --out FILE.png (--out " << o.out << ")");
    DBN_CHECK(png || !o.shape, ConfigError,
              "--shape applies to a picture: give --out FILE.png (--out " << o.out << ")");
    if (o.shape) picture::parse_shape(*o.shape);
    std::vector<NamedInput> inputs = {{"the model", o.model}};
    if (o.from)
        for (const auto& f : data::spec_files(*o.from)) inputs.push_back({"--from", f});
    check_output(o.out, "--out", png ? "the picture" : "the samples", inputs);
    const auto lock = guard_output(o.out);
    const ModelFile model = io::load_model(o.model);
    picture::TileShape shape;
    if (png)
        shape = picture::choose_shape(sample_shape_of(model), o.shape, model.stack.n_visible(),
                                      o.model);
    sample::SampleOptions options;
    options.count = o.count;
    options.steps = o.steps;
    options.seed = o.seed;
    std::optional<Matrix> start;
    if (o.from) {
        const data::Dataset d = data::read_dataset(*o.from);
        DBN_CHECK(d.size() > 0, ConfigError, "--from " << *o.from << ": no rows");
        start = sample::top_input(model.stack, d.x);
    }
    const Matrix* start_ptr = start ? &*start : nullptr;
    if (png) {
        Matrix tiles = Matrix::from_shape({0, 0});
        std::size_t columns = 0;
        if (o.chain) {
            const std::vector<std::size_t> at = chain_steps(o.steps);
            const std::vector<Matrix> frames =
                sample::sample_chain_frames(model.stack, options, at, start_ptr);
            const std::size_t n = model.stack.n_visible();
            columns = frames.size();
            tiles = Matrix::from_shape({o.count * columns, n});
            for (std::size_t c = 0; c < o.count; ++c)
                for (std::size_t f = 0; f < columns; ++f)
                    for (std::size_t i = 0; i < n; ++i) tiles(c * columns + f, i) = frames[f](c, i);
        } else {
            tiles = sample::sample_model(model.stack, options, start_ptr).means;
        }
        const picture::GrayImage image = picture::tile_grid(
            tiles, shape, columns, picture::sample_gray_scale(model.stack, tiles));
        picture::write_png(o.out, image);
        std::cout << "wrote " << o.out << ": " << counted(o.count, o.chain ? "chain" : "sample")
                  << " of " << shape.height << "x" << shape.width << " after "
                  << counted(o.steps, "Gibbs step");
        if (o.chain) std::cout << ", " << columns << " looks per chain";
        std::cout << ", " << image.width << "x" << image.height << " pixels" << std::endl;
        return exit_ok;
    }
    const sample::Samples samples = sample::sample_model(model.stack, options, start_ptr);
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
