// Uses the installed dbn package: builds an RBM, checks its free energy against the closed form,
// saves and reloads it through the library's HDF5 model I/O, and prints the result.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <string>

#include "dbn/core/error.hpp"
#include "dbn/core/rng.hpp"
#include "dbn/core/types.hpp"
#include "dbn/core/version.hpp"
#include "dbn/io/model_io.hpp"
#include "dbn/model/model_file.hpp"
#include "dbn/rbm/rbm.hpp"

namespace {

// F(v) = -a.v - sum_j log(1 + exp(b_j + sum_i v_i W_ij)) for Bernoulli units, in double.
double closed_form_free_energy(const dbn::Rbm& rbm, const dbn::Matrix& v, std::size_t row) {
    double f = 0.0;
    for (std::size_t i = 0; i < rbm.n_visible(); ++i)
        f -= double{rbm.visible_bias()(i)} * v(row, i);
    for (std::size_t j = 0; j < rbm.n_hidden(); ++j) {
        double act = rbm.hidden_bias()(j);
        for (std::size_t i = 0; i < rbm.n_visible(); ++i)
            act += double{v(row, i)} * rbm.weights()(i, j);
        f -= std::log1p(std::exp(act));
    }
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1] : "model.h5";
    const int standard = __cplusplus >= 202002L ? 20 : 17;
    try {
        dbn::Rng rng{42};
        dbn::Rbm rbm(6, 4);
        rbm.init_random(rng, 0.5f);
        for (std::size_t i = 0; i < rbm.n_visible(); ++i) rbm.visible_bias()(i) = 0.1f * i - 0.2f;
        for (std::size_t j = 0; j < rbm.n_hidden(); ++j) rbm.hidden_bias()(j) = 0.3f - 0.2f * j;
        const dbn::Matrix v = {{1, 0, 1, 1, 0, 0}, {0, 1, 0, 0, 1, 1}};

        const dbn::DVector f = rbm.free_energy(v);
        for (std::size_t r = 0; r < v.shape(0); ++r) {
            const double want = closed_form_free_energy(rbm, v, r);
            if (!(std::fabs(f(r) - want) <= 1e-4 * (1.0 + std::fabs(want)))) {
                std::fprintf(stderr, "free energy of row %zu: %.9g (expected %.9g)\n", r, f(r),
                             want);
                return 1;
            }
        }

        dbn::ModelFile model;
        model.stack.layers.push_back(rbm);
        dbn::io::save_model(model, path);
        const dbn::ModelFile back = dbn::io::load_model(path);
        const dbn::DVector g = back.stack.layers.at(0).free_energy(v);
        for (std::size_t r = 0; r < v.shape(0); ++r) {
            if (g(r) != f(r)) {
                std::fprintf(stderr, "row %zu after save and load: %.17g (before %.17g)\n", r, g(r),
                             f(r));
                return 1;
            }
        }
        std::printf("dbn %s, C++%d: free energy %.6f %.6f\n", dbn::library_version, standard, f(0),
                    f(1));
    } catch (const dbn::Error& e) {
        std::fprintf(stderr, "dbn error: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
