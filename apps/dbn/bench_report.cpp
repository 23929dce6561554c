#include "bench_report.hpp"

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <thread>
#include <vector>

#include "dbn/core/version.hpp"
#include "report.hpp"

namespace dbn::cli {
namespace {

using json = nlohmann::json;

json products_json(const bench::GemmLimit& l) {
    json out = json::object();
    for (const bench::ProductTiming& p : l.products)
        out[p.shape.name] = {{"m", p.shape.m},
                             {"n", p.shape.n},
                             {"k", p.shape.k},
                             {"per_minibatch", p.shape.count},
                             {"gflops_blas_threads", p.gflops_blas_threads()},
                             {"gflops_split", number(p.gflops_split())},
                             {"gflops_best", p.gflops_best()}};
    return out;
}

json sweep_json(const bench::Sweep& s) {
    json list = json::array();
    for (const bench::ScalePoint& p : s.points)
        list.push_back({{"rows", p.rows},
                        {"n_visible", p.nv},
                        {"n_hidden", p.nh},
                        {"seconds", p.seconds},
                        {"seconds_per_row", p.per_row()},
                        {"seconds_per_row_nv_nh", p.per_unit()},
                        {"limit_seconds", p.limit},
                        {"limit_gemm_gflops", p.limit_gflops},
                        {"fraction_of_limit", p.limit / p.seconds}});
    return {{"points", list},
            {"exponent", s.exponent},
            {"cost_ratio_max_min", s.cost_ratio_max_min},
            {"fit_intercept_seconds", s.fit.intercept},
            {"fit_seconds_per_row_nv_nh", s.fit.slope},
            {"fit_r_squared", s.fit.r_squared}};
}

json ais_json(const bench::AisMeasurement& a) {
    return {{"runs", a.runs},
            {"steps", a.steps},
            {"groups", a.groups},
            {"seconds", a.seconds},
            {"log_z", a.log_z},
            {"gemm", products_json(a.limit)},
            {"limit_seconds", a.limit_seconds},
            {"fraction_of_limit", a.limit_seconds / a.seconds},
            {"gemm_gflops_achieved", a.flops / a.seconds / 1e9}};
}

json scaling_json(const bench::Scaling& s) {
    return {{"algorithm", "cd1"},
            {"batch_size", s.batch_size},
            {"rows", sweep_json(s.rows)},
            {"n_hidden", sweep_json(s.n_hidden)},
            {"note", bench::k_scaling_note}};
}

void print_sweep(std::ostream& out, const char* title, const bench::Sweep& s) {
    out << title << "\n"
        << "     rows   n_v    n_h   seconds   us/row  ps/(row*n_v*n_h)  limit s  GFLOP/s  "
           "% of limit\n";
    char buf[200];
    for (const bench::ScalePoint& p : s.points) {
        std::snprintf(buf, sizeof buf,
                      "  %7zu  %4zu  %5zu  %8.3f  %7.2f  %16.2f  %7.3f  %7.1f  %9.0f\n", p.rows,
                      p.nv, p.nh, p.seconds, 1e6 * p.per_row(), 1e12 * p.per_unit(), p.limit,
                      p.limit_gflops, 100.0 * p.limit / p.seconds);
        out << buf;
    }
    std::snprintf(buf, sizeof buf,
                  "  log-log slope %.3f (1 = linear); least squares: %.3f s + %.2f ps x "
                  "row*n_v*n_h (R^2 %.4f); largest / smallest cost per row*n_v*n_h %.2f\n",
                  s.exponent, s.fit.intercept, 1e12 * s.fit.slope, s.fit.r_squared,
                  s.cost_ratio_max_min);
    out << buf;
}

}  // namespace

std::string dashed(const std::vector<std::size_t>& widths) {
    std::string s = widths.empty() ? std::string() : std::to_string(widths.front());
    for (std::size_t i = 1; i < widths.size(); ++i) s += "-" + std::to_string(widths[i]);
    return s;
}

void print_products(std::ostream& log, const bench::GemmLimit& limit, int name_width) {
    for (const bench::ProductTiming& p : limit.products) {
        const bool split = !std::isnan(p.split_seconds);
        log << "  sgemm " << std::setw(name_width) << p.shape.name << " " << p.shape.m << "x"
            << p.shape.n << "x" << p.shape.k << ": " << std::fixed << std::setprecision(1)
            << p.gflops_blas_threads() << " GFLOP/s with BLAS threads"
            << (split ? ", " + std::to_string(std::lround(p.gflops_split())) + " split by rows"
                      : std::string())
            << std::defaultfloat << std::endl;
    }
}

json bench_json(const BenchRun& r) {
    const bench::RbmMeasurement& rbm = r.rbm;
    const bench::FineTuneMeasurement& ft = r.finetune;
    const bench::FeatureMeasurement& fx = r.features;
    const double ais_s = r.ais ? r.ais->seconds : NAN;
    const double ais_limit_s = r.ais ? r.ais->limit_seconds : NAN;
    const double single = rbm.cd1_seconds_1_thread;
    return {
        {"dbn_version", library_version},
        {"openblas_core", r.kernel},
        {"openblas_core_chosen_by", r.kernel_chosen_by},
        {"threads", r.threads},
        {"hardware_threads", std::thread::hardware_concurrency()},
        {"data", r.data},
        {"rows", r.rows},
        {"shape", {rbm.n_visible, rbm.n_hidden}},
        {"batch_size", rbm.batch_size},
        {"runs", r.runs},
        {"load_seconds", r.load_seconds},
        {"gemm", products_json(rbm.limit)},
        {"gemm_gflops", rbm.limit.gflops()},
        {"limit_seconds_per_epoch", rbm.limit_seconds},
        {"cd1_seconds_per_epoch", rbm.cd1_seconds},
        {"cd1_fraction_of_limit", rbm.limit_seconds / rbm.cd1_seconds},
        {"pcd1_seconds_per_epoch", rbm.pcd1_seconds},
        {"pcd1_fraction_of_limit", rbm.limit_seconds / rbm.pcd1_seconds},
        {"cd1_seconds_per_epoch_1_thread", number(single)},
        {"thread_speedup", number(single / rbm.cd1_seconds)},
        {"ais_seconds", number(ais_s)},
        {"ais_fraction_of_limit", number(ais_limit_s / ais_s)},
        {"ais", r.ais ? ais_json(*r.ais) : json(nullptr)},
        {"peak_rss_mib", r.rbm_peak_rss_mib},
        {"finetune_shape", ft.shape},
        {"finetune_batch_size", ft.batch_size},
        {"finetune_optimizer", finetune::to_string(ft.optimizer)},
        {"finetune_gemm", products_json(ft.limit)},
        {"finetune_gemm_gflops", ft.flops / ft.limit_seconds / 1e9},
        {"finetune_seconds_per_epoch", ft.seconds},
        {"finetune_limit_seconds", ft.limit_seconds},
        {"finetune_fraction_of_limit", ft.limit_seconds / ft.seconds},
        {"features_shape", fx.shape},
        {"features_chunk_rows", fx.chunk_rows},
        {"features_gemm", products_json(fx.limit)},
        {"features_gemm_gflops", fx.flops / fx.limit_seconds / 1e9},
        {"features_seconds", fx.seconds},
        {"features_rows_per_second", fx.rows_per_second()},
        {"features_limit_rows_per_second", fx.limit_rows_per_second()},
        {"features_fraction_of_limit", fx.rows_per_second() / fx.limit_rows_per_second()},
        {"scaling", r.scaling ? scaling_json(*r.scaling) : json(nullptr)},
        {"peak_rss_mib_total", r.peak_rss_mib},
    };
}

void print_bench_summary(std::ostream& out, const BenchRun& r) {
    const bench::RbmMeasurement& rbm = r.rbm;
    const double cd1 = rbm.cd1_seconds, limit_s = rbm.limit_seconds;
    out << std::fixed << std::setprecision(3) << "kernel " << r.kernel << ", " << r.threads
        << (r.threads > 1 ? " threads" : " thread") << ": sgemm " << std::setprecision(1)
        << rbm.limit.gflops() << " GFLOP/s -> limit " << std::setprecision(3) << limit_s
        << " s/epoch; CD-1 " << cd1 << " s (" << std::setprecision(0) << 100.0 * limit_s / cd1
        << "% of the limit), PCD-1 " << std::setprecision(3) << rbm.pcd1_seconds << " s";
    if (!std::isnan(rbm.cd1_seconds_1_thread))
        out << ", 1 thread " << rbm.cd1_seconds_1_thread << " s (x" << std::setprecision(2)
            << rbm.cd1_seconds_1_thread / cd1 << ")";
    if (r.ais)
        out << "; AIS " << std::setprecision(1) << r.ais->seconds << " s (" << std::setprecision(0)
            << 100.0 * r.ais->limit_seconds / r.ais->seconds << "% of its limit)";
    out << "; peak RSS " << std::setprecision(0) << r.rbm_peak_rss_mib << " MiB" << std::endl;
    const bench::FineTuneMeasurement& ft = r.finetune;
    const bench::FeatureMeasurement& fx = r.features;
    const double fx_rate = fx.rows_per_second(), fx_limit_rate = fx.limit_rows_per_second();
    out << "fine-tuning " << dashed(ft.shape) << " (batch " << ft.batch_size << "): epoch "
        << std::setprecision(3) << ft.seconds << " s, limit " << ft.limit_seconds << " s ("
        << std::setprecision(0) << 100.0 * ft.limit_seconds / ft.seconds << "%); features through "
        << dashed(fx.shape) << ": " << fx_rate << " rows/s, limit " << fx_limit_rate << " rows/s ("
        << 100.0 * fx_rate / fx_limit_rate << "%); peak RSS of the whole run " << r.peak_rss_mib
        << " MiB" << std::endl;
    if (r.scaling) {
        out << std::defaultfloat;
        print_sweep(out, "CD-1 epoch against rows:", r.scaling->rows);
        print_sweep(out, "CD-1 epoch against n_hidden:", r.scaling->n_hidden);
        out << "(" << bench::k_scaling_note << ")" << std::endl;
    }
}

}  // namespace dbn::cli
