#pragma once

// The console observer of `dbn finetune` (cmd_finetune.cpp): one line per epoch.

#include <cstddef>
#include <ostream>

#include "dbn/finetune/fine_tuner.hpp"

namespace dbn::cli {

/// @brief Prints the network, one line per epoch (accuracies or reconstruction errors) and the
/// library's notes to `out`; nothing with `quiet`.
class FineTuneProgress : public finetune::FineTuneObserver {
public:
    FineTuneProgress(std::ostream& out, bool classifier, bool quiet)
        : out_(out), classifier_(classifier), quiet_(quiet) {}
    void on_begin(const finetune::Network& net, std::size_t n_train, std::size_t n_valid) override;
    Control on_epoch_end(const finetune::FineTuneEpoch& e) override;
    void on_message(const char* text) override;

private:
    std::ostream& out_;
    bool classifier_;
    bool quiet_;
};

}  // namespace dbn::cli
