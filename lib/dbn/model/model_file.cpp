#include "dbn/model/model_file.hpp"

#include <utility>

#include "dbn/core/error.hpp"

namespace dbn {

bool is_sample_shape_of(const std::vector<std::size_t>& shape, std::size_t n_values) {
    if (shape.size() < 2 || shape.size() > 8) return false;
    std::size_t values = 1;
    for (std::size_t d : shape) {
        if (d == 0 || values > n_values / d) return false;
        values *= d;
    }
    return values == n_values;
}

void ModelFile::validate() const {
    stack.validate();
    const std::size_t n = stack.n_layers();
    DBN_CHECK(records.empty() || records.size() == n, ShapeError,
              "ModelFile: " << records.size() << " training records for " << n << " layers");
    DBN_CHECK(log_z.size() <= n && checks.size() < n, ShapeError,
              "ModelFile: " << log_z.size() << " log Z records and " << checks.size()
                            << " checks for " << n << " layers");
    if (!sample_shape.empty()) {
        DBN_CHECK(is_sample_shape_of(sample_shape, stack.n_visible()), ShapeError,
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
