// libFuzzer harness: the model loader (io::load_model, which every command reading a model
// calls: info, eval, features, finetune). The reader takes a path, so the input is written to a
// file first (in /dev/shm). A model the loader accepts must be one the writer accepts: it is
// saved (io::save_model) and loaded again, and must keep its layers and their sizes.

#include <cstddef>
#include <cstdint>
#include <string>

#include "dbn/io/model_io.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dbn;
    const fuzz::TempFile file("model.h5", data, size);
    fuzz::expect_documented_errors([&] {
        const ModelFile model = io::load_model(file.path());
        const fuzz::TempFile saved("saved.h5", nullptr, 0);
        if (!fuzz::expect_documented_errors([&] { io::save_model(model, saved.path()); }))
            fuzz::violated("a model the loader accepts is refused by the writer");
        ModelFile again;
        if (!fuzz::expect_documented_errors([&] { again = io::load_model(saved.path()); }))
            fuzz::violated("a saved model does not load");
        if (again.stack.n_layers() != model.stack.n_layers() ||
            again.records.size() != model.records.size() ||
            again.fine_tuned.has_value() != model.fine_tuned.has_value())
            fuzz::violated("a model changed on the way through the writer");
        for (std::size_t k = 0; k < model.stack.n_layers(); ++k)
            if (again.stack.layers[k].n_visible() != model.stack.layers[k].n_visible() ||
                again.stack.layers[k].n_hidden() != model.stack.layers[k].n_hidden())
                fuzz::violated("a layer changed its size on the way through the writer");
    });
    return 0;
}
