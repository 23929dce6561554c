#include <iostream>

#include "commands.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/files.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/picture/filters.hpp"
#include "dbn/picture/image.hpp"
#include "dbn/picture/png.hpp"

namespace dbn::cli {

std::optional<std::vector<std::int64_t>> sample_shape_of(const ModelFile& model) {
    if (model.sample_shape.empty()) return std::nullopt;
    return std::vector<std::int64_t>(model.sample_shape.begin(), model.sample_shape.end());
}

void add_show(CLI::App& app, ShowOptions& o) {
    auto* c = app.add_subcommand(
        "show",
        "Draw the weights of a layer as a PNG grid of tiles, one per hidden unit, each "
        "stretched to its own min (black) and max (white); layer K > 0 is drawn through the "
        "layers below as the product W_0 W_1 ... W_K");
    c->add_option("model", o.model, "model file (.h5)")->required()->check(path_validator());
    c->add_option("--layer", o.layer, "layer, 0 = the first as in 'dbn info' (default 0)")
        ->check(index_validator());
    c->add_option("--out", o.out, "output picture (.png)")->required()->check(path_validator());
    c->add_option("--count", o.count, "draw the first N hidden units (default: all)")
        ->check(count_validator());
    c->add_option("--shape", o.shape,
                  "tile shape HxW (default: the file's sample_shape, else a square when "
                  "n_visible is one)");
}

int run_show(const ShowOptions& o) {
    picture::check_png_output(o.out);
    if (o.shape) picture::parse_shape(*o.shape);
    check_output(o.out, "--out", "the picture", {{"the model", o.model}});
    const auto lock = guard_output(o.out);
    const ModelFile model = io::load_model(o.model);
    const picture::TileShape shape =
        picture::choose_shape(sample_shape_of(model), o.shape, model.stack.n_visible(), o.model);
    const Matrix tiles = picture::layer_filters(model.stack, o.layer, o.count);
    const picture::GrayImage image = picture::tile_grid(tiles, shape);
    picture::write_png(o.out, image);
    std::cout << "wrote " << o.out << ": " << counted(tiles.shape(0), "filter") << " of layer "
              << o.layer << " as " << shape.height << "x" << shape.width << " tiles, "
              << image.width << "x" << image.height << " pixels" << std::endl;
    return exit_ok;
}

}  // namespace dbn::cli
