// Adaptive run counts of the consistency checks (estimate::RunTarget, docs/CHECK.md "Adding
// runs"): on stacks small enough to enumerate, so that every interval can be held against the
// exact log Z.

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dbn/estimate/consistency.hpp"
#include "dbn/estimate/exact_log_partition.hpp"
#include "dbn/estimate/stack_evaluation.hpp"
#include "support/helpers.hpp"

namespace dbn {
namespace {

using estimate::LogZMethod;
using estimate::StackEvaluation;
using estimate::StackEvaluationOptions;

using testing::random_binary;

// 10-8-6-5 with weights of spread 1: AIS with 4 runs of 30 temperatures leaves intervals several
// nats wide or open, while every layer has at most 2^8 states to enumerate.
Dbn small_stack(std::uint64_t seed) {
    Rng rng{seed};
    Dbn m;
    m.layers.push_back(testing::random_rbm(10, 8, rng, 1.0f));
    m.layers.push_back(testing::random_rbm(8, 6, rng, 1.0f));
    m.layers.push_back(testing::random_rbm(6, 5, rng, 1.0f));
    return m;
}

constexpr std::size_t k_first_runs = 4;

StackEvaluationOptions few_runs(double width, std::uint64_t seed = 3) {
    StackEvaluationOptions opt;
    opt.log_z.method = LogZMethod::ais;
    opt.log_z.ais.runs = k_first_runs;
    opt.log_z.ais.steps = 30;
    opt.log_z.ais.seed = seed;
    opt.seed_per_layer = true;
    opt.run_target.width = width;
    return opt;
}

StackEvaluation evaluate(const Dbn& m, const StackEvaluationOptions& opt) {
    Rng rng{5};
    return estimate::evaluate_stack(m, random_binary(300, 10, 4), opt, rng);
}

double exact_log_z(const Dbn& m, std::size_t k) {
    return estimate::exact_log_partition(m.layers[k]);
}

// Runs are added until D's interval is closed and at most the target wide; the exact dlogZ lies
// in every interval so obtained (3 standard errors each side: over 10 stacks x 2 pairs a miss
// is rare, so 19 of 20 is the bar); the check below a layer that got runs is recomputed from
// the layers' final log Z; the runs add up.
TEST(RunTarget, AddsRunsUntilTheIntervalIsClosedAndNarrowAndCoversTheExactValue) {
    constexpr double width = 0.5;
    std::size_t inside = 0, pairs = 0, added_anywhere = 0;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
        const Dbn m = small_stack(seed);
        const StackEvaluation ev = evaluate(m, few_runs(width, seed));
        ASSERT_EQ(ev.checks.size(), 2u);
        std::size_t runs = 0, added = 0;
        for (const auto& z : ev.log_z) runs += z.ais_runs;
        for (std::size_t k = 0; k < 2; ++k) {
            const auto& c = ev.checks[k];
            ASSERT_TRUE(c.applicable);
            EXPECT_EQ(c.runs_stopped_by, "target width") << "seed " << seed << " pair " << k;
            ASSERT_TRUE(std::isfinite(c.delta_log_z_low) && std::isfinite(c.delta_log_z_high));
            EXPECT_LE(c.delta_log_z_high - c.delta_log_z_low, width);
            EXPECT_LE(c.bound_change_high - c.bound_change_low, width + 1e-9);
            // Every check agrees with the records of the two layers as they ended.
            const estimate::DeltaLogZ d = estimate::delta_log_z(ev.log_z[k], ev.log_z[k + 1]);
            EXPECT_EQ(c.delta_log_z, d.value) << "seed " << seed << " pair " << k;
            EXPECT_EQ(c.delta_log_z_low, d.low);
            EXPECT_EQ(c.bound_change, c.free_energy_gap - d.value);
            const double exact = exact_log_z(m, k + 1) - exact_log_z(m, k);
            inside += c.delta_log_z_low <= exact && exact <= c.delta_log_z_high;
            ++pairs;
            added += c.runs_added;
        }
        EXPECT_EQ(runs, 3 * k_first_runs + added) << "seed " << seed;
        added_anywhere += added > 0;
    }
    EXPECT_GE(inside, 19u) << "of " << pairs;
    EXPECT_EQ(added_anywhere, 10u) << "4 runs of 30 temperatures should never meet 0.5 nats";
}

// With no target nothing is added, and the evaluation is that of the options without it, bit for
// bit (keeping the runs' states changes nothing).
TEST(RunTarget, WithoutATargetNothingIsAdded) {
    const Dbn m = small_stack(1);
    const StackEvaluation off = evaluate(m, few_runs(0.0));
    for (const auto& c : off.checks) {
        EXPECT_EQ(c.runs_added, 0u);
        EXPECT_EQ(c.runs_stopped_by, "");
    }
    for (const auto& z : off.log_z) EXPECT_EQ(z.ais_runs, k_first_runs);
    StackEvaluationOptions plain = few_runs(0.0);
    plain.run_target = {};
    const StackEvaluation ref = evaluate(m, plain);
    for (std::size_t k = 0; k < 3; ++k)
        EXPECT_EQ(off.log_z[k].log_z.value, ref.log_z[k].log_z.value);
}

// A target the run limit cannot reach stops at the limit, with each layer at exactly that many
// runs; a budget already spent stops before any run; the same settings give the same answer.
TEST(RunTarget, RunLimitAndTimeBudgetStopTheRoundsAndSayWhich) {
    const Dbn m = small_stack(2);
    StackEvaluationOptions opt = few_runs(1e-9);
    opt.run_target.max_runs = 64;
    const StackEvaluation limited = evaluate(m, opt);
    for (const auto& c : limited.checks) EXPECT_EQ(c.runs_stopped_by, "run limit");
    for (const auto& z : limited.log_z) EXPECT_EQ(z.ais_runs, 64u);
    EXPECT_EQ(limited.checks[0].runs_added + limited.checks[1].runs_added, 3 * (64 - k_first_runs));
    const StackEvaluation again = evaluate(m, opt);
    for (std::size_t k = 0; k < 3; ++k)
        EXPECT_EQ(again.log_z[k].log_z.value, limited.log_z[k].log_z.value);

    opt = few_runs(1e-9);
    opt.run_target.seconds = 1e-12;
    const StackEvaluation spent = evaluate(m, opt);
    for (const auto& c : spent.checks) {
        EXPECT_EQ(c.runs_stopped_by, "time budget");
        EXPECT_EQ(c.runs_added, 0u);
    }
    for (const auto& z : spent.log_z) EXPECT_EQ(z.ais_runs, k_first_runs);
}

// An exactly known log Z gets no runs: only the AIS layer of the pair does.
TEST(RunTarget, OnlyTheAisLayerOfAPairGetsRuns) {
    Rng rng{8};
    Dbn m;
    m.layers.push_back(testing::random_rbm(30, 26, rng, 0.6f));  // 26 > 20 enumerated: AIS
    m.layers.push_back(testing::random_rbm(26, 6, rng, 0.6f));   // exact
    StackEvaluationOptions opt = few_runs(0.5);
    opt.log_z.method = LogZMethod::automatic;
    Rng sample{9};
    const StackEvaluation ev = estimate::evaluate_stack(m, random_binary(200, 30, 10), opt, sample);
    ASSERT_EQ(ev.log_z[0].method, "ais");
    ASSERT_EQ(ev.log_z[1].method, "exact");
    EXPECT_EQ(ev.checks[0].runs_stopped_by, "target width");
    EXPECT_GT(ev.log_z[0].ais_runs, k_first_runs);
    EXPECT_EQ(ev.log_z[0].ais_runs, k_first_runs + ev.checks[0].runs_added);
    EXPECT_LE(ev.checks[0].delta_log_z_high - ev.checks[0].delta_log_z_low, 0.5);
}

}  // namespace
}  // namespace dbn
