#include "finetune_progress.hpp"

#include <cstdio>

#include "dbn/core/plural.hpp"
#include "dbn/observe/console_progress.hpp"

namespace dbn::cli {

void FineTuneProgress::on_begin(const finetune::Network& net, std::size_t n_train,
                                std::size_t n_valid) {
    if (quiet_) return;
    out_ << "network: " << net.n_inputs();
    for (const auto& l : net.layers) out_ << "-" << l.n_out();
    out_ << " (" << counted(net.n_parameters(), "parameter") << "); "
         << counted(n_train, "training row") << ", " << counted(n_valid, "validation row")
         << std::endl;
}

Control FineTuneProgress::on_epoch_end(const finetune::FineTuneEpoch& e) {
    if (quiet_) return Control::proceed;
    char buf[256];
    if (classifier_) {
        std::snprintf(buf, sizeof buf,
                      "epoch %3zu: loss %.5f  train acc %.4f  valid acc %.4f  lr %.3g  %s", e.epoch,
                      e.loss, e.train_accuracy, e.valid_accuracy, e.learning_rate,
                      observe::format_duration(e.seconds).c_str());
    } else {
        std::snprintf(buf, sizeof buf,
                      "epoch %3zu: loss %.5f  train recon %.6f  valid recon %.6f  lr %.3g  %s",
                      e.epoch, e.loss, e.train_reconstruction_error, e.valid_reconstruction_error,
                      e.learning_rate, observe::format_duration(e.seconds).c_str());
    }
    out_ << buf << std::endl;
    return Control::proceed;
}

void FineTuneProgress::on_message(const char* text) {
    if (!quiet_) out_ << text << std::endl;
}

}  // namespace dbn::cli
