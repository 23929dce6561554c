#include "dbn/model/model_file.hpp"

#include <utility>

#include "dbn/core/error.hpp"

namespace dbn {

void ModelFile::validate() const {
    stack.validate();
    const std::size_t n = stack.n_layers();
    DBN_CHECK(records.empty() || records.size() == n, ShapeError,
              "ModelFile: " << records.size() << " training records for " << n << " layers");
    DBN_CHECK(log_z.size() <= n && checks.size() < n, ShapeError,
              "ModelFile: " << log_z.size() << " log Z records and " << checks.size()
                            << " checks for " << n << " layers");
}

void ModelFile::set_fine_tuned(finetune::FineTuneResult tuned) {
    if (tuned.fine_tuned.config.init != finetune::InitScheme::pretrained) records.clear();
    stack = std::move(tuned.stack);
    fine_tuned = std::move(tuned.fine_tuned);
}

}  // namespace dbn
