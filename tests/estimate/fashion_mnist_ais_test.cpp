// The partition-function issue's acceptance figure, as a test: on RBMs of 20 hidden units trained
// on Fashion-MNIST, AIS (default schedule, 100 runs) agrees with the exact log Z within its
// interval and within 0.5 nats, for several seeds.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "dbn/data/dataset.hpp"
#include "dbn/estimate/ais.hpp"
#include "dbn/estimate/exact_log_partition.hpp"
#include "dbn/pretrain/greedy_trainer.hpp"

namespace dbn {
namespace {

constexpr const char* k_images = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";

TEST(FashionMnistAis, AgreesWithExactLogZOnTwentyHiddenUnits) {
    if (!std::filesystem::exists(k_images)) GTEST_SKIP() << k_images << " not installed";
    const data::Dataset all = data::read_dataset(k_images);
    const data::Dataset d = data::first_rows(all, 5000);
    for (std::uint64_t seed : {1, 2, 3}) {
        DbnConfig cfg =
            parse_dbn_config(R"({"seed": )" + std::to_string(seed) + R"(, "heldout_fraction": 0,
                "defaults": {"epochs": 3, "batch_size": 50, "learning_rate": 0.05},
                "layers": [{"hidden": 20}]})",
                             "fmnist20.json");
        const Dbn m = GreedyTrainer(cfg).train(d).stack;
        const Rbm& rbm = m.layers[0];
        const double exact = estimate::exact_log_partition(rbm);
        estimate::AisConfig ac;
        ac.seed = seed;
        const Matrix x = m.preprocess(d.x);
        const estimate::AisResult ais = estimate::Ais(ac).estimate(rbm, x);
        std::printf("seed %llu: exact log Z %.4f, AIS %.4f [%.4f, %.4f], ESS %.1f\n",
                    static_cast<unsigned long long>(seed), exact, ais.log_z, ais.log_z_low,
                    ais.log_z_high, ais.ess);
        EXPECT_LE(ais.log_z_low, exact) << "seed " << seed;
        EXPECT_GE(ais.log_z_high, exact) << "seed " << seed;
        EXPECT_NEAR(ais.log_z, exact, 0.5) << "seed " << seed;
    }
}

}  // namespace
}  // namespace dbn
