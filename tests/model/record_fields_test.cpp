// The field tables of the model file's records (dbn/model/record_fields.hpp): every member of
// every record is reached by a field, every field reads back what it writes, the text renderings
// are those `dbn info` printed before the tables, and the docs name every field.
#include "dbn/model/record_fields.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include "dbn/core/error.hpp"

namespace dbn {
namespace {

// ---- the members of an aggregate, without naming them ----------------------------------------

/// Converts to anything: T{any_init{}, ...} compiles for as many initializers as T has members.
struct any_init {
    template <class T>
    operator T() const;  // never called: unevaluated contexts only
};

template <class T, class... A>
constexpr auto brace_constructible(int) -> decltype(T{std::declval<A>()...}, true) {
    return true;
}
template <class T, class... A>
constexpr bool brace_constructible(...) {
    return false;
}

/// Number of direct data members of the aggregate T.
template <class T, class... A>
constexpr std::size_t member_count() {
    if constexpr (brace_constructible<T, A..., any_init>(0))
        return member_count<T, A..., any_init>();
    else
        return sizeof...(A);
}

/// A tuple of references to the members of r (N of them).
template <std::size_t N, class R>
auto tie_members(R& r) {
    if constexpr (N == 1) {
        auto& [m0] = r;
        return std::tie(m0);
    } else if constexpr (N == 2) {
        auto& [m0, m1] = r;
        return std::tie(m0, m1);
    } else if constexpr (N == 3) {
        auto& [m0, m1, m2] = r;
        return std::tie(m0, m1, m2);
    } else if constexpr (N == 4) {
        auto& [m0, m1, m2, m3] = r;
        return std::tie(m0, m1, m2, m3);
    } else if constexpr (N == 5) {
        auto& [m0, m1, m2, m3, m4] = r;
        return std::tie(m0, m1, m2, m3, m4);
    } else if constexpr (N == 6) {
        auto& [m0, m1, m2, m3, m4, m5] = r;
        return std::tie(m0, m1, m2, m3, m4, m5);
    } else if constexpr (N == 7) {
        auto& [m0, m1, m2, m3, m4, m5, m6] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6);
    } else if constexpr (N == 8) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7);
    } else if constexpr (N == 9) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8);
    } else if constexpr (N == 10) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9);
    } else if constexpr (N == 11) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10);
    } else if constexpr (N == 12) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11);
    } else if constexpr (N == 13) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12);
    } else if constexpr (N == 14) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13);
    } else if constexpr (N == 15) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14);
    } else if constexpr (N == 16) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15);
    } else if constexpr (N == 17) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16);
    } else if constexpr (N == 18) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16, m17] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16,
                        m17);
    } else if constexpr (N == 19) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16, m17,
               m18] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16,
                        m17, m18);
    } else if constexpr (N == 20) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16, m17, m18,
               m19] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16,
                        m17, m18, m19);
    } else if constexpr (N == 21) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16, m17, m18,
               m19, m20] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16,
                        m17, m18, m19, m20);
    } else if constexpr (N == 22) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16, m17, m18,
               m19, m20, m21] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16,
                        m17, m18, m19, m20, m21);
    } else if constexpr (N == 23) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16, m17, m18,
               m19, m20, m21, m22] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16,
                        m17, m18, m19, m20, m21, m22);
    } else if constexpr (N == 24) {
        auto& [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16, m17, m18,
               m19, m20, m21, m22, m23] = r;
        return std::tie(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16,
                        m17, m18, m19, m20, m21, m22, m23);
    }
}

template <class T>
constexpr bool is_record() {
    return std::is_class_v<T> && std::is_aggregate_v<T> && !std::is_same_v<T, std::string>;
}

template <class T, class F>
void visit_leaf(T& m, F& f);

/// Calls f on every leaf member of r (members of members included), in order.
template <class R, class F>
void for_each_leaf(R& r, F& f) {
    std::apply([&](auto&... m) { (visit_leaf(m, f), ...); }, tie_members<member_count<R>()>(r));
}
template <class T, class F>
void visit_leaf(T& m, F& f) {
    if constexpr (is_record<T>())
        for_each_leaf(m, f);
    else
        f(m);
}

/// Changes a leaf to another valid value.
struct Perturb {
    std::size_t target;
    std::size_t seen = 0;
    template <class T>
    void operator()(T& m) {
        if (seen++ != target) return;
        if constexpr (std::is_same_v<T, bool>)
            m = !m;
        else if constexpr (std::is_floating_point_v<T>)
            m = m == m ? m + 0.375 : 1.25;
        else if constexpr (std::is_integral_v<T>)
            m = m + 12345;
        else if constexpr (std::is_enum_v<T>) {
            const auto u = static_cast<std::underlying_type_t<T>>(m);
            m = static_cast<T>(u > 0 ? u - 1 : u + 1);
        } else if constexpr (std::is_same_v<T, std::string>)
            m += "~";
        else
            static_assert(sizeof(T) == 0, "a record member of a kind this test cannot change");
    }
};

struct CountLeaves {
    std::size_t n = 0;
    template <class T>
    void operator()(T&) {
        ++n;
    }
};

bool same_value(const FieldValue& a, const FieldValue& b) {
    if (a.index() != b.index()) return false;
    if (const auto* x = std::get_if<double>(&a))
        return std::memcmp(x, &std::get<double>(b), sizeof(double)) == 0;
    return a == b;
}

/// Every leaf member of R, changed alone, changes the value of a field that the readers set:
/// a member no field reaches fails here, naming its position.
template <class R>
void expect_every_member_reached(const char* record) {
    R base{};
    CountLeaves count;
    for_each_leaf(base, count);
    ASSERT_GT(count.n, 0u);
    for (std::size_t i = 0; i < count.n; ++i) {
        R changed{};
        Perturb p{i};
        for_each_leaf(changed, p);
        bool reached = false;
        for (const auto& f : fields_of<R>())
            if (f.set && !same_value(f.get(base), f.get(changed))) reached = true;
        EXPECT_TRUE(reached) << record << ": leaf member " << i << " of " << count.n
                             << " is in no field of its table (add a row to record_fields.cpp)";
    }
}

/// Every settable field reads back what it was set to; names are unique (old names too).
template <class R>
void expect_fields_round_trip(const char* record) {
    const auto& table = fields_of<R>();
    std::vector<std::string> names;
    for (const auto& f : table) {
        names.push_back(f.name);
        if (f.old_name) names.push_back(f.old_name);
        if (!f.set || f.kind == FieldKind::choice) continue;  // choices: below, by name
        R r{};
        FieldValue v;
        switch (f.kind) {
            case FieldKind::count:
                v = std::uint64_t{4242};
                break;
            case FieldKind::real:
                v = -0.0625;
                break;
            case FieldKind::flag:
                v = !std::get<bool>(f.get(r));
                break;
            default:
                v = std::string("some text");
                break;
        }
        f.set(r, v, record);
        EXPECT_TRUE(same_value(f.get(r), v)) << record << "." << f.name;
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end())
        << record << ": a name is used twice";
}

TEST(RecordFields, EveryMemberOfEveryRecordIsAField) {
    expect_every_member_reached<LayerTrainingConfig>("LayerTrainingConfig");
    expect_every_member_reached<EpochStats>("EpochStats");
    expect_every_member_reached<estimate::LayerLogZ>("LayerLogZ");
    expect_every_member_reached<estimate::ConsistencyCheck>("ConsistencyCheck");
    expect_every_member_reached<finetune::FineTuneConfig>("FineTuneConfig");
    expect_every_member_reached<finetune::FineTuneEpoch>("FineTuneEpoch");
    expect_every_member_reached<DivergenceEvent>("DivergenceEvent");
    // The counts the tables were written for (a new member shows here first).
    EXPECT_EQ(member_count<LayerTrainingConfig>(), fields_of<LayerTrainingConfig>().size());
    EXPECT_EQ(member_count<EpochStats>(), fields_of<EpochStats>().size());
    EXPECT_EQ(member_count<finetune::FineTuneConfig>(),
              fields_of<finetune::FineTuneConfig>().size());
    EXPECT_EQ(member_count<finetune::FineTuneEpoch>(), fields_of<finetune::FineTuneEpoch>().size());
    EXPECT_EQ(member_count<DivergenceEvent>(), fields_of<DivergenceEvent>().size());
    // log_z (LogPartition) is three fields; verdict is computed.
    EXPECT_EQ(member_count<estimate::LayerLogZ>() + 2, fields_of<estimate::LayerLogZ>().size());
    EXPECT_EQ(member_count<estimate::ConsistencyCheck>() + 1,
              fields_of<estimate::ConsistencyCheck>().size());
}

TEST(RecordFields, EveryFieldReadsBackWhatItWasSet) {
    expect_fields_round_trip<LayerTrainingConfig>("LayerTrainingConfig");
    expect_fields_round_trip<EpochStats>("EpochStats");
    expect_fields_round_trip<estimate::LayerLogZ>("LayerLogZ");
    expect_fields_round_trip<estimate::ConsistencyCheck>("ConsistencyCheck");
    expect_fields_round_trip<finetune::FineTuneConfig>("FineTuneConfig");
    expect_fields_round_trip<finetune::FineTuneEpoch>("FineTuneEpoch");
    expect_fields_round_trip<DivergenceEvent>("DivergenceEvent");

    LayerTrainingConfig c;
    const Field<LayerTrainingConfig>* a = find_field(fields_of<LayerTrainingConfig>(), "algorithm");
    ASSERT_NE(a, nullptr);
    a->set(c, std::string("exact"), "x");
    EXPECT_EQ(c.algorithm, Algorithm::exact);
    try {
        a->set(c, std::string("gibbs"), "cfg.json: layers[0].algorithm");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("cfg.json: layers[0].algorithm: unknown algorithm"),
                  std::string::npos)
            << e.what();
    }
    finetune::FineTuneConfig f;
    const auto* opt = find_field(fields_of<finetune::FineTuneConfig>(), "optimizer");
    ASSERT_NE(opt, nullptr);
    opt->set(f, std::string("sgd"), "x");
    EXPECT_EQ(f.optimizer, finetune::OptimizerKind::sgd);
    EXPECT_THROW(opt->set(f, std::string("lbfgs"), "x"), ConfigError);
}

// The one-line texts of `dbn info`, as it printed them before the tables.
TEST(RecordFields, TextRenderingsKeepTheirFormat) {
    LayerTrainingConfig c;
    EXPECT_EQ(render_text(fields_of<LayerTrainingConfig>(), c),
              "cd-1, 10 epochs, batch 100, lr 0.1 (decay 1), momentum 0.5 -> 0.9 after 5, weight "
              "decay 0.0002");
    c.algorithm = Algorithm::pcd;
    c.l1 = 1e-4;
    c.sparsity_target = 0.05;
    c.sparsity_cost = 0.5;
    EXPECT_EQ(render_text(fields_of<LayerTrainingConfig>(), c),
              "pcd-1, 10 epochs, batch 100, lr 0.1 (decay 1), momentum 0.5 -> 0.9 after 5, weight "
              "decay 0.0002, l1 0.0001, sparsity 0.05 (cost 0.5)");

    EpochStats e;
    e.epoch = 7;
    e.reconstruction_error = 0.0123456;
    e.seconds = 1.234;
    EXPECT_EQ(render_text(fields_of<EpochStats>(), e), "    epoch   7: recon 0.01235  1.23s");
    e.free_energy_gap = 0.5;
    e.pseudo_log_likelihood = -60.25;
    EXPECT_EQ(render_text(fields_of<EpochStats>(), e),
              "    epoch   7: recon 0.01235  F gap +0.500  PLL -60.250  1.23s");

    DivergenceEvent d;
    d.epoch = 4;
    d.minibatch = 27;
    d.reason = "spread";
    d.learning_rate_before = 0.1;
    d.learning_rate_after = 0.05;
    EXPECT_EQ(render_text(fields_of<DivergenceEvent>(), d),
              "    divergence at epoch 4 (27 minibatches): spread; rolled back, lr 0.1 -> 0.05");

    estimate::LayerLogZ z;
    z.index = 1;
    z.note = "relu hidden units have no closed-form free energy, so no log Z";
    EXPECT_EQ(render_text(fields_of<estimate::LayerLogZ>(), z),
              "    layer 1: n/a (" + z.note + ")");
    z.available = true;
    z.method = "ais";
    z.log_z = {123.45678, 123.4, 123.5};
    z.ais_runs = 100;
    z.ais_steps = 1450;
    z.ess = 42.5;
    EXPECT_EQ(
        render_text(fields_of<estimate::LayerLogZ>(), z),
        "    layer 1:     123.4568  [123.4000, 123.5000]  ais (100 runs x 1450 steps, ESS 43)");

    estimate::ConsistencyCheck k;
    k.lower = 0, k.upper = 1;
    k.note = "defined for Bernoulli hidden units only";
    EXPECT_EQ(render_text(fields_of<estimate::ConsistencyCheck>(), k),
              "    0->1   n/a (defined for Bernoulli hidden units only)");
    k.applicable = true, k.diagnostic = true;
    k.free_energy_gap = 1.5, k.delta_log_z = 0.25, k.bound_change = 1.25;
    k.bound_change_low = 1.0, k.bound_change_high = 1.5;
    EXPECT_EQ(render_text(fields_of<estimate::ConsistencyCheck>(), k),
              "    0->1       +1.5000     +0.2500     +1.2500  [   +1.0000,    +1.5000]  passed "
              "(diagnostic)");

    finetune::FineTuneConfig f;
    EXPECT_EQ(render_text(fields_of<finetune::FineTuneConfig>(), f),
              "adam lr 0.001 (decay 1), batch 100, up to 30 epochs, patience 5, weight decay "
              "1e-05, init pretrained, seed 1");
    f.optimizer = finetune::OptimizerKind::sgd;
    f.dropout = 0.5;
    f.head_only = true;
    EXPECT_EQ(render_text(fields_of<finetune::FineTuneConfig>(), f),
              "sgd lr 0.1 (decay 1), momentum 0.9, batch 100, up to 30 epochs, patience 5, weight "
              "decay 1e-05, dropout 0.5 (input 0), init pretrained, head only, seed 1");
}

std::string read_doc(const std::string& name) {
    std::ifstream in(std::string(DBN_SOURCE_DIR) + "/docs/" + name);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Every field of a given use is named (in backquotes) by the doc that lists that use.
template <class R>
void expect_documented(FieldUse use, const std::string& doc, const char* record) {
    const std::string text = read_doc(doc);
    ASSERT_FALSE(text.empty()) << doc;
    for (const auto& f : fields_of<R>()) {
        if (!f.used_in(use)) continue;
        EXPECT_NE(text.find(std::string("`") + f.name + "`"), std::string::npos)
            << record << "." << f.name << " is not in docs/" << doc;
    }
}

TEST(RecordFields, TheDocsNameEveryField) {
    expect_documented<LayerTrainingConfig>(in_config, "CONFIG.md", "LayerTrainingConfig");
    expect_documented<LayerTrainingConfig>(in_file, "FORMAT.md", "LayerTrainingConfig");
    expect_documented<EpochStats>(in_file, "FORMAT.md", "EpochStats");
    expect_documented<estimate::LayerLogZ>(in_file, "FORMAT.md", "LayerLogZ");
    expect_documented<estimate::ConsistencyCheck>(in_file, "FORMAT.md", "ConsistencyCheck");
    expect_documented<finetune::FineTuneConfig>(in_file, "FORMAT.md", "FineTuneConfig");
    expect_documented<finetune::FineTuneEpoch>(in_file, "FORMAT.md", "FineTuneEpoch");
    expect_documented<DivergenceEvent>(in_file, "FORMAT.md", "DivergenceEvent");
    expect_documented<estimate::LayerLogZ>(in_json, "EVAL.md", "LayerLogZ");
    expect_documented<estimate::ConsistencyCheck>(in_json, "EVAL.md", "ConsistencyCheck");
}

}  // namespace
}  // namespace dbn
