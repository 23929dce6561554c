#include "dbn/picture/chart.hpp"

#include <cmath>
#include <string>

namespace dbn::picture {

namespace {

bool any_finite(const std::vector<double>& y) {
    for (double v : y)
        if (std::isfinite(v)) return true;
    return false;
}

void add(Chart& chart, Series s) {
    if (any_finite(s.y)) chart.series.push_back(std::move(s));
}

}  // namespace

std::vector<Chart> training_charts(const ModelFile& model) {
    Chart recon{"Reconstruction error", "epoch", "mean squared error per unit", {}};
    Chart gap{"Free-energy gap (held-out minus training)", "epoch", "mean free energy gap", {}};
    Chart pll{"Pseudo-log-likelihood", "epoch", "per sample (nats)", {}};
    for (std::size_t k = 0; k < model.records.size(); ++k) {
        std::string name = "layer " + std::to_string(k);
        if (k < model.stack.n_layers())
            name += " (" + std::to_string(model.stack.layers[k].n_visible()) + "-" +
                    std::to_string(model.stack.layers[k].n_hidden()) + ")";
        Series r{name, {}, {}}, g{name, {}, {}}, p{name, {}, {}};
        for (const EpochStats& e : model.records[k].epochs) {
            const double x = static_cast<double>(e.epoch);
            r.x.push_back(x);
            r.y.push_back(e.reconstruction_error);
            g.x.push_back(x);
            g.y.push_back(e.free_energy_gap);
            p.x.push_back(x);
            p.y.push_back(e.pseudo_log_likelihood);
        }
        add(recon, std::move(r));
        add(gap, std::move(g));
        add(pll, std::move(p));
    }
    std::vector<Chart> out;
    for (Chart* c : {&recon, &gap, &pll})
        if (!c->series.empty()) out.push_back(std::move(*c));
    if (model.fine_tuned) {
        const auto& history = model.fine_tuned->history;
        Chart loss{"Fine-tuning loss", "epoch", "mean training loss per sample", {}};
        Chart acc{"Fine-tuning accuracy", "epoch", "accuracy", {}};
        Chart err{"Fine-tuning reconstruction error", "epoch", "mean squared error per unit", {}};
        Series l{"training", {}, {}}, at{"training", {}, {}}, av{"validation", {}, {}, true},
            et{"training", {}, {}}, ev{"validation", {}, {}, true};
        for (const auto& e : history) {
            const double x = static_cast<double>(e.epoch);
            for (Series* s : {&l, &at, &av, &et, &ev}) s->x.push_back(x);
            l.y.push_back(e.loss);
            at.y.push_back(e.train_accuracy);
            av.y.push_back(e.valid_accuracy);
            et.y.push_back(e.train_reconstruction_error);
            ev.y.push_back(e.valid_reconstruction_error);
        }
        add(loss, std::move(l));
        add(acc, std::move(at));
        add(acc, std::move(av));
        add(err, std::move(et));
        add(err, std::move(ev));
        for (Chart* c : {&loss, &acc, &err})
            if (!c->series.empty()) out.push_back(std::move(*c));
    }
    return out;
}

}  // namespace dbn::picture
