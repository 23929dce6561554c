// The dbn command: parses arguments into option structs and calls the library; all validation
// of data, configurations and models lives in the library.
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <new>
#include <streambuf>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "dbn/core/blas_kernel.hpp"
#include "dbn/core/error.hpp"
#include "dbn/core/version.hpp"
#include "dbn/mpi/communicator.hpp"

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

namespace {
/// Swallows what non-root ranks would print.
class NullBuffer : public std::streambuf {
protected:
    int overflow(int c) override { return c == EOF ? 0 : c; }
};

/// Points std::cout at a NullBuffer for its lifetime and back at its own buffer after: the
/// standard streams are flushed after main returns, when a buffer local to main is gone (rank
/// 1 of `mpirun -np 2 dbn eval` crashed there in the flush).
class SilencedCout {
public:
    explicit SilencedCout(bool silence) : saved_(silence ? std::cout.rdbuf(&discard_) : nullptr) {}
    ~SilencedCout() {
        if (saved_) std::cout.rdbuf(saved_);
    }
    SilencedCout(const SilencedCout&) = delete;
    SilencedCout& operator=(const SilencedCout&) = delete;

private:
    NullBuffer discard_;
    std::streambuf* saved_;
};
}  // namespace

int main(int argc, char** argv) {
    using namespace dbn::cli;
    // First: may restart the program once with a faster OpenBLAS kernel (see blas_kernel.hpp).
    dbn::blas::choose_kernel_at_startup(argv, std::cerr, isatty(STDERR_FILENO) == 1);
    // Under mpirun (and in the MPI build) one process per rank: MPI starts here, only rank 0
    // prints to stdout, and a rank that fails ends the whole job rather than leave the others
    // waiting in a collective operation.
    dbn::mpi::Session mpi_session(argc, argv);
    const dbn::mpi::Communicator& world = dbn::mpi::world();
    const SilencedCout silenced(!world.root());
    const auto finish = [&world](int status) {
        if (status != 0 && world.size() > 1) world.abort(status);
        return status;
    };
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
    PredictOptions predict;
    add_predict(app, predict);
    ScoreOptions score;
    add_score(app, score);
    SampleOptions sample;
    add_sample(app, sample);
    ReportOptions report;
    add_report(app, report);
    ShowOptions show;
    add_show(app, show);
    PlotOptions plot;
    add_plot(app, plot);
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
        // Only dbn eval shares its work across ranks; P copies of another command would each
        // do all of it and write the same files.
        if (world.size() > 1 && !app.got_subcommand("eval"))
            throw dbn::ConfigError("under mpirun only 'dbn eval' runs on several ranks (got " +
                                   std::to_string(world.size()) + " ranks)");
        if (app.got_subcommand("pretrain")) return finish(run_pretrain(pretrain));
        if (app.got_subcommand("info")) return finish(run_info(info));
        if (app.got_subcommand("features")) return finish(run_features(features));
        if (app.got_subcommand("predict")) return finish(run_predict(predict));
        if (app.got_subcommand("score")) return finish(run_score(score));
        if (app.got_subcommand("sample")) return finish(run_sample(sample));
        if (app.got_subcommand("report")) return finish(run_report(report));
        if (app.got_subcommand("show")) return finish(run_show(show));
        if (app.got_subcommand("plot")) return finish(run_plot(plot));
        if (app.got_subcommand("eval")) return finish(run_eval(eval));
        if (app.got_subcommand("finetune")) return finish(run_finetune(finetune));
        if (app.got_subcommand("bench")) return finish(run_bench(bench));
        if (app.got_subcommand("dataset")) return finish(run_dataset(dataset));
    } catch (const dbn::NumericalError& e) {
        std::cerr << "dbn: error: " << e.what() << std::endl;
        return finish(exit_numerical);
    } catch (const dbn::Error& e) {
        std::cerr << "dbn: error: " << e.what() << std::endl;
        return finish(exit_bad_input);
    } catch (const std::bad_alloc&) {
        std::cerr << "dbn: error: out of memory" << std::endl;
        return finish(exit_bad_input);
    } catch (const std::exception& e) {
        std::cerr << "dbn: error: " << e.what() << std::endl;
        return finish(exit_bad_input);
    }
    return exit_usage;
}
