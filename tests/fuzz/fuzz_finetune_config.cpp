// libFuzzer harness: the settings of `dbn finetune` (fine_tune_config, which turns the flags'
// values into a FineTuneConfig and checks them). The program has no JSON file for them: the
// flags arrive typed (CLI11 parses the numbers), so the input is decoded into the same typed
// overrides with FuzzedDataProvider: for each flag, whether it is given and its value; the
// strings (--mode, --optimizer, --random-init, --loss) come first in the input. A configuration
// fine_tune_config returns must pass validate() and keep every value it was given.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "dbn/finetune/fine_tune_config.hpp"
#include "fuzz_support.hpp"

namespace {

template <class T>
std::optional<T> maybe(FuzzedDataProvider& in, T value) {
    return in.ConsumeBool() ? std::optional<T>(value) : std::nullopt;
}

double any_double(FuzzedDataProvider& in) {
    // Mostly values near the allowed ranges, sometimes any bit pattern (NaN, Inf, huge).
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
        case 0:
            return in.ConsumeFloatingPoint<double>();
        case 1:
            return in.ConsumeFloatingPointInRange<double>(-2.0, 2.0);
        case 2: {
            const auto bits = in.ConsumeIntegral<std::uint64_t>();
            double d;
            static_assert(sizeof d == sizeof bits);
            std::memcpy(&d, &bits, sizeof d);
            return d;
        }
        default:
            return in.ConsumeProbability<double>();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dbn;
    FuzzedDataProvider in(data, size);
    finetune::FineTuneOverrides o;
    o.mode = in.ConsumeRandomLengthString(16);
    o.optimizer = maybe(in, in.ConsumeRandomLengthString(16));
    o.random_init = maybe(in, in.ConsumeRandomLengthString(16));
    o.loss = maybe(in, in.ConsumeRandomLengthString(16));
    o.epochs = maybe(in, in.ConsumeIntegral<std::size_t>());
    o.batch_size = maybe(in, in.ConsumeIntegral<std::size_t>());
    o.seed = maybe(in, in.ConsumeIntegral<std::uint64_t>());
    o.learning_rate = maybe(in, any_double(in));
    o.learning_rate_decay = maybe(in, any_double(in));
    o.momentum = maybe(in, any_double(in));
    o.weight_decay = maybe(in, any_double(in));
    o.dropout = maybe(in, any_double(in));
    o.input_dropout = maybe(in, any_double(in));
    o.patience = maybe(in, in.ConsumeIntegral<long>());
    o.validation_fraction = maybe(in, any_double(in));
    o.head_only = in.ConsumeBool();
    o.linear_code = in.ConsumeBool();
    const bool gaussian_visible = in.ConsumeBool();

    fuzz::expect_documented_errors([&] {
        const finetune::FineTuneConfig c = finetune::fine_tune_config(o, gaussian_visible);
        if (!fuzz::expect_documented_errors([&] { c.validate(); }))
            fuzz::violated("fine_tune_config returned a configuration validate() refuses");
        if ((o.epochs && c.epochs != *o.epochs) ||
            (o.batch_size && c.batch_size != *o.batch_size) || (o.seed && c.seed != *o.seed) ||
            (o.dropout && c.dropout != *o.dropout) || (o.momentum && c.momentum != *o.momentum) ||
            c.head_only != o.head_only || c.linear_code != o.linear_code)
            fuzz::violated("fine_tune_config changed a value it was given");
        const double lr = c.effective_learning_rate();
        if (!(lr > 0.0) || lr == std::numeric_limits<double>::infinity())
            fuzz::violated("the effective learning rate is not a positive number");
    });
    return 0;
}
