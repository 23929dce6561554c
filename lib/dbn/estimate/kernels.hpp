#pragma once

// The softplus and logistic kernels moved to units/ (they are the Bernoulli units' log-marginal
// and mean in double); this header keeps the old names for code written against them.
#include "dbn/units/kernels.hpp"

namespace dbn::estimate::detail {

using dbn::detail::scaled_softplus_sum;
using dbn::detail::shifted_sigmoid;
using dbn::detail::softplus_sum;

}  // namespace dbn::estimate::detail
