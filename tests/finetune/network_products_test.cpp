// Network::forward_products and training_products: the products the passes run, checked
// against a count made by hand for Hinton & Salakhutdinov's 784-500-500-2000-10 classifier.
#include <cstddef>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/core/blas.hpp"
#include "dbn/finetune/network.hpp"

namespace dbn {
namespace {

finetune::Network network(const std::vector<std::size_t>& widths) {
    finetune::Network net;
    for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
        finetune::DenseLayer l;
        l.weights = Matrix::from_shape({widths[i], widths[i + 1]});
        l.bias = Vector::from_shape({widths[i + 1]});
        l.activation =
            i + 2 == widths.size() ? finetune::Activation::softmax : finetune::Activation::sigmoid;
        net.layers.push_back(std::move(l));
    }
    return net;
}

double total_flops(const std::vector<blas::GemmShape>& shapes) {
    double f = 0.0;
    for (const auto& s : shapes) f += s.flops();
    return f;
}

// Multiply-adds per row of the four layers: 784*500 + 500*500 + 500*2000 + 2000*10.
constexpr double k_macs_per_row = 392000.0 + 250000.0 + 1000000.0 + 20000.0;
constexpr double k_lowest_macs_per_row = 392000.0;

TEST(NetworkProducts, ForwardFlopsOfTheClassifier) {
    const finetune::Network net = network({784, 500, 500, 2000, 10});
    const auto shapes = net.forward_products(100);
    ASSERT_EQ(shapes.size(), 4u);
    EXPECT_DOUBLE_EQ(total_flops(shapes), 2.0 * 100 * k_macs_per_row);
    EXPECT_EQ(shapes[2].name, "L3 forward");
    EXPECT_FALSE(shapes[2].trans_a);
    EXPECT_FALSE(shapes[2].trans_b);
    EXPECT_EQ(shapes[2].m, 100u);
    EXPECT_EQ(shapes[2].n, 2000u);
    EXPECT_EQ(shapes[2].k, 500u);
}

TEST(NetworkProducts, TrainingFlopsOfTheClassifier) {
    const finetune::Network net = network({784, 500, 500, 2000, 10});
    const auto shapes = net.training_products(100);
    // Forward and weight gradient of every layer, input gradient of all but the lowest.
    ASSERT_EQ(shapes.size(), 11u);
    EXPECT_DOUBLE_EQ(total_flops(shapes),
                     2.0 * 100 * (3.0 * k_macs_per_row - k_lowest_macs_per_row));
    const std::vector<std::string> names = {
        "L1 forward",        "L1 weight gradient", "L2 forward",         "L2 weight gradient",
        "L2 input gradient", "L3 forward",         "L3 weight gradient", "L3 input gradient",
        "L4 forward",        "L4 weight gradient", "L4 input gradient"};
    for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(shapes[i].name, names[i]);
    const blas::GemmShape& wg = shapes[6];  // X_3^T delta_3: [500 x 100] [100 x 2000]
    EXPECT_TRUE(wg.trans_a);
    EXPECT_FALSE(wg.trans_b);
    EXPECT_EQ(wg.m, 500u);
    EXPECT_EQ(wg.n, 2000u);
    EXPECT_EQ(wg.k, 100u);
    const blas::GemmShape& ig = shapes[7];  // delta_3 W_3^T: [100 x 2000] [2000 x 500]
    EXPECT_FALSE(ig.trans_a);
    EXPECT_TRUE(ig.trans_b);
    EXPECT_EQ(ig.m, 100u);
    EXPECT_EQ(ig.n, 500u);
    EXPECT_EQ(ig.k, 2000u);
    for (const auto& s : shapes) EXPECT_EQ(s.count, 1);
}

TEST(NetworkProducts, HeadOnlyTrainsTheLastLayer) {
    const finetune::Network net = network({784, 500, 500, 2000, 10});
    const auto shapes = net.training_products(100, true);
    ASSERT_EQ(shapes.size(), 5u);  // four forward products, the head's weight gradient
    EXPECT_DOUBLE_EQ(total_flops(shapes), 2.0 * 100 * (k_macs_per_row + 20000.0));
    EXPECT_EQ(shapes.back().name, "L4 weight gradient");
}

}  // namespace
}  // namespace dbn
