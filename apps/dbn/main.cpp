// The dbn command: parses arguments into option structs and calls the library; all validation
// of data, configurations and models lives in the library.
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <new>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "dbn/core/blas_kernel.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/version.hpp"

namespace {

/// CLI11 2.1 shows a flag with a default value as "--random-init{glorot}"; the help shows the
/// flag's name alone, its description says what the bare flag means.
class Formatter : public CLI::Formatter {
public:
    std::string make_option_name(const CLI::Option* opt, bool is_positional) const override {
        std::string name = CLI::Formatter::make_option_name(opt, is_positional);
        for (auto open = name.find('{'); open != std::string::npos; open = name.find('{')) {
            const auto close = name.find('}', open);
            if (close == std::string::npos) break;
            name.erase(open, close - open + 1);
        }
        return name;
    }
};

}  // namespace

int main(int argc, char** argv) {
    using namespace dbn::cli;
    // First: may restart the program once with a faster OpenBLAS kernel (see blas_kernel.hpp).
    dbn::blas::choose_kernel_at_startup(argv, std::cerr, isatty(STDERR_FILENO) == 1);
    CLI::App app{"dbn: deep belief networks (stacks of RBMs) pretrained greedily", "dbn"};
    app.set_version_flag("--version", std::string("dbn ") + dbn::library_version);
    app.require_subcommand(1);
    app.formatter(std::make_shared<Formatter>());  // before the subcommands, which copy it
    PretrainOptions pretrain;
    InfoOptions info;
    add_pretrain(app, pretrain);
    add_info(app, info);
    FeaturesOptions features;
    add_features(app, features);
    SampleOptions sample;
    add_sample(app, sample);
    EvalOptions eval;
    add_eval(app, eval);
    FinetuneOptions finetune;
    add_finetune(app, finetune);
    BenchOptions bench;
    add_bench(app, bench);
    DatasetOptions dataset;
    add_dataset(app, dataset);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "dbn: usage error: " << e.what()
                  << "\n(run 'dbn --help' or 'dbn COMMAND --help')" << std::endl;
        return exit_usage;
    }
    try {
        if (app.got_subcommand("pretrain")) return run_pretrain(pretrain);
        if (app.got_subcommand("info")) return run_info(info);
        if (app.got_subcommand("features")) return run_features(features);
        if (app.got_subcommand("sample")) return run_sample(sample);
        if (app.got_subcommand("eval")) return run_eval(eval);
        if (app.got_subcommand("finetune")) return run_finetune(finetune);
        if (app.got_subcommand("bench")) return run_bench(bench);
        if (app.got_subcommand("dataset")) return run_dataset(dataset);
    } catch (const dbn::NumericalError& e) {
        std::cerr << "dbn: error: " << e.what() << std::endl;
        return exit_numerical;
    } catch (const dbn::Error& e) {
        std::cerr << "dbn: error: " << e.what() << std::endl;
        return exit_bad_input;
    } catch (const std::bad_alloc&) {
        std::cerr << "dbn: error: out of memory" << std::endl;
        return exit_bad_input;
    } catch (const std::exception& e) {
        std::cerr << "dbn: error: " << e.what() << std::endl;
        return exit_bad_input;
    }
    return exit_usage;
}
