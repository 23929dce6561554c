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
    if (!sample_shape.empty()) {
        std::size_t values = 1;
        bool fits = sample_shape.size() >= 2;
        for (std::size_t d : sample_shape) {
            fits = fits && d > 0 && values <= stack.n_visible() / d;
            if (fits) values *= d;
        }
        DBN_CHECK(fits && values == stack.n_visible(), ShapeError,
                  "ModelFile: a sample_shape of " << sample_shape.size()
                                                  << " dimensions that does not hold the "
                                                  << stack.n_visible() << " visible units");
    }
}

void ModelFile::set_fine_tuned(finetune::FineTuneResult tuned) {
    if (tuned.fine_tuned.config.init != finetune::InitScheme::pretrained) records.clear();
    stack = std::move(tuned.stack);
    fine_tuned = std::move(tuned.fine_tuned);
}

}  // namespace dbn
