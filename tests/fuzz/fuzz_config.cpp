// libFuzzer harness: the JSON configuration of `dbn pretrain --config` (parse_dbn_config, which
// load_dbn_config calls on the file's text). A configuration it accepts is saved with the model
// as its `json` text; that text must be accepted again and give the same stack.

#include <cstddef>
#include <cstdint>
#include <string>

#include "dbn/pretrain/config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dbn;
    const std::string text(reinterpret_cast<const char*>(data), size);
    fuzz::expect_documented_errors([&] {
        const DbnConfig cfg = parse_dbn_config(text, "fuzz.json");
        DbnConfig again;
        if (!fuzz::expect_documented_errors([&] { again = parse_dbn_config(cfg.json, "saved"); }))
            fuzz::violated("the saved JSON of an accepted configuration is refused");
        if (again.layers.size() != cfg.layers.size() || again.seed != cfg.seed ||
            again.name != cfg.name || again.json != cfg.json)
            fuzz::violated("the saved JSON gives another configuration");
        for (std::size_t k = 0; k < cfg.layers.size(); ++k)
            if (again.layers[k].n_hidden != cfg.layers[k].n_hidden)
                fuzz::violated("the saved JSON gives other layer sizes");
    });
    return 0;
}
