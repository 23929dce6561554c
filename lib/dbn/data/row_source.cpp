#include "dbn/data/row_source.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/data/bars_stripes.hpp"
#include "dbn/data/ising.hpp"
#include "dbn/data/readers.hpp"

namespace dbn::data {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

class MemorySource : public RowSource {
public:
    explicit MemorySource(Dataset data) : RowSource(data.source), data_(std::move(data)) {}

    std::size_t n_features() const override { return data_.n_features(); }
    std::optional<std::size_t> size() const override { return data_.size(); }
    bool has_labels() const override { return data_.has_labels(); }

protected:
    std::size_t read_into(std::size_t max_rows, Matrix& x, Labels& labels) override {
        const std::size_t n = std::min(max_rows, data_.size() - next_);
        const std::size_t cols = data_.n_features();
        std::copy_n(data_.x.data() + next_ * cols, n * cols, x.data());
        if (data_.has_labels()) std::copy_n(data_.labels.data() + next_, n, labels.data());
        next_ += n;
        return n;
    }

private:
    Dataset data_;
    std::size_t next_ = 0;
};

}  // namespace

namespace detail {

ParsedSpec parse_spec(const std::string& spec) {
    const std::string l = lower(spec);
    // The HDF5 form carries an object path after the file name, so the extension is found by
    // searching rather than at the end: "a.h5:/x/y".
    for (const std::string_view ext : {std::string_view(".h5"), std::string_view(".hdf5")}) {
        const auto pos = l.find(std::string(ext) + ":");
        if (pos != std::string::npos) {
            const auto split = pos + ext.size();
            ParsedSpec p{SpecKind::hdf5, spec.substr(0, split), spec.substr(split + 1)};
            DBN_CHECK(!p.object.empty(), FormatError,
                      p.path << ": an HDF5 spec needs a dataset path (file.h5:/dataset)");
            return p;
        }
        DBN_CHECK(!ends_with(l, ext), FormatError,
                  spec << ": an HDF5 spec needs a dataset path (" << spec << ":/dataset)");
    }
    if (is_csv_path(spec)) return {SpecKind::csv, spec, {}};
    if (ends_with(l, ".npy")) return {SpecKind::npy, spec, {}};
    const std::string_view base =
        ends_with(l, ".gz") ? std::string_view(l).substr(0, l.size() - 3) : std::string_view(l);
    if (ends_with(base, "-ubyte") || ends_with(base, ".idx")) return {SpecKind::idx, spec, {}};
    return {SpecKind::unknown, spec, {}};
}

Dataset read_all(RowSource& source) {
    // Chunks of at most k_chunk_values values, so that a header announcing more rows than the
    // file holds fails as truncated before they are allocated. A source that announces its size
    // and fits in one chunk (the 47M pixels of MNIST do) is read straight into the result; one
    // that does not (CSV) is read in chunks that double, then joined.
    constexpr std::size_t k_chunk_values = std::size_t{1} << 26;
    constexpr std::size_t k_first_rows = 1024;
    const std::size_t cols = source.n_features();
    const bool labelled = source.has_labels();
    const std::optional<std::size_t> size = source.size();
    const std::size_t max_rows =
        std::max<std::size_t>(1, k_chunk_values / std::max<std::size_t>(cols, 1));
    std::vector<Dataset> chunks;
    std::size_t rows = 0;
    std::size_t want = size ? *size : k_first_rows;
    for (;;) {
        Dataset chunk;
        const std::size_t n = source.read(std::clamp<std::size_t>(want, 1, max_rows), chunk);
        if (n == 0) break;
        rows += n;
        chunks.push_back(std::move(chunk));
        // An announced size leaves one last read of a row, which finds the end (and checks it).
        want = size ? (rows < *size ? *size - rows : 1) : 2 * want;
    }
    if (chunks.size() == 1) {
        chunks.front().sample_shape = source.sample_shape();
        return std::move(chunks.front());
    }

    Dataset all;
    all.source = source.source();
    all.sample_shape = source.sample_shape();
    all.x = Matrix::from_shape({rows, cols});
    if (labelled) all.labels = Labels::from_shape({rows});
    std::size_t row = 0;
    for (const Dataset& c : chunks) {
        std::copy_n(c.x.data(), c.x.size(), all.x.data() + row * cols);
        if (labelled) std::copy_n(c.labels.data(), c.size(), all.labels.data() + row);
        row += c.size();
    }
    return all;
}

}  // namespace detail

std::size_t RowSource::read(std::size_t max_rows, Dataset& chunk) {
    DBN_CHECK(max_rows > 0, ConfigError, "RowSource::read: " << source_ << ": max_rows is 0");
    const std::size_t cols = n_features();
    const bool labelled = has_labels();
    chunk.source = source_;
    // Memory follows the rows the source holds, not the number asked for (an untrusted count,
    // e.g. --chunk-rows 10^18): at most the rows an announced size has left, and beyond
    // k_piece_values values the chunk grows only as rows arrive (a header may announce more than
    // the file holds). Once an announced size is read, the last call only finds the end (and checks
    // it) without a row of buffer: a header of 0 rows by 2^34 columns would otherwise allocate 64
    // GB for a row that cannot come (fuzz_idx).
    std::size_t want = max_rows;
    if (const auto total = size()) {
        want = std::min(max_rows, *total - std::min(*total, rows_read_));
        if (want == 0) {
            chunk.x = Matrix::from_shape({0, cols});
            chunk.labels = Labels::from_shape({0});
            const std::size_t n = read_into(0, chunk.x, chunk.labels);
            DBN_ASSERT(n == 0);
            return n;
        }
    }
    constexpr std::size_t k_piece_values = std::size_t{1} << 24;
    const std::size_t piece =
        std::max<std::size_t>(1, k_piece_values / std::max<std::size_t>(cols, 1));
    if (want > piece) return read_growing(want, piece, chunk);

    // Buffers of the full chunk size are kept from call to call; only a short last chunk
    // (or the end) reshapes them.
    if (chunk.x.shape(0) != want || chunk.x.shape(1) != cols)
        chunk.x = Matrix::from_shape({want, cols});
    if (labelled && chunk.labels.size() != want) chunk.labels = Labels::from_shape({want});
    if (!labelled) chunk.labels = Labels::from_shape({0});

    const std::size_t n = read_into(want, chunk.x, chunk.labels);
    if (n < want) {
        Matrix x = Matrix::from_shape({n, cols});
        std::copy_n(chunk.x.data(), n * cols, x.data());
        chunk.x = std::move(x);
        if (labelled) {
            Labels l = Labels::from_shape({n});
            std::copy_n(chunk.labels.data(), n, l.data());
            chunk.labels = std::move(l);
        }
    }
    rows_read_ += n;
    return n;
}

std::size_t RowSource::read_growing(std::size_t want, std::size_t piece, Dataset& chunk) {
    const std::size_t cols = n_features();
    const bool labelled = has_labels();
    std::vector<Dataset> parts;
    std::size_t total = 0;
    while (total < want) {
        const std::size_t ask = std::min(piece, want - total);
        Dataset part;
        part.x = Matrix::from_shape({ask, cols});
        if (labelled) part.labels = Labels::from_shape({ask});
        const std::size_t n = read_into(ask, part.x, part.labels);
        if (n == 0) break;
        if (n < ask) {
            Matrix x = Matrix::from_shape({n, cols});
            std::copy_n(part.x.data(), n * cols, x.data());
            part.x = std::move(x);
            if (labelled) {
                Labels l = Labels::from_shape({n});
                std::copy_n(part.labels.data(), n, l.data());
                part.labels = std::move(l);
            }
        }
        total += n;
        parts.push_back(std::move(part));
        if (n < ask) break;
        piece *= 2;
    }
    chunk.x = Matrix::from_shape({total, cols});
    chunk.labels = Labels::from_shape({labelled ? total : 0});
    std::size_t row = 0;
    for (const Dataset& p : parts) {
        std::copy_n(p.x.data(), p.x.size(), chunk.x.data() + row * cols);
        if (labelled) std::copy_n(p.labels.data(), p.size(), chunk.labels.data() + row);
        row += p.size();
    }
    rows_read_ += total;
    return total;
}

std::unique_ptr<RowSource> open_row_source(const std::string& spec, const CsvOptions& csv) {
    static const std::string k_bars = "bars-and-stripes:";
    if (spec.rfind(k_bars, 0) == 0) {
        // A generated set (a few hundred rows at most), for models small enough for exact
        // likelihoods.
        const std::string n = spec.substr(k_bars.size());
        DBN_CHECK(
            !n.empty() && n.size() <= 2 && n.find_first_not_of("0123456789") == std::string::npos,
            FormatError, spec << ": expected bars-and-stripes:N with N a size from 1 to 10");
        Dataset d;
        d.x = bars_and_stripes(std::stoul(n));
        d.source = spec;
        return memory_row_source(std::move(d));
    }
    if (spec.rfind("ising:", 0) == 0) {
        // Equilibrium samples of the 2D Ising model, generated (docs: datasets/ising).
        IsingSamples s = ising_samples(parse_ising_spec(spec));
        Dataset d;
        d.x = std::move(s.visible);
        d.source = spec;
        return memory_row_source(std::move(d));
    }
    const detail::ParsedSpec p = detail::parse_spec(spec);
    switch (p.kind) {
        case detail::SpecKind::idx:
            return detail::open_idx(p.path, /*sibling_labels=*/true);
        case detail::SpecKind::csv:
            return detail::open_csv(p.path, csv);
        case detail::SpecKind::hdf5:
            return detail::open_hdf5(p.path, p.object);
        case detail::SpecKind::npy:
            return detail::open_npy(p.path);
        case detail::SpecKind::unknown:
            break;
    }
    throw FormatError(spec + ": unrecognised data file; expected " + detail::k_spec_forms);
}

std::vector<std::string> spec_files(const std::string& spec) {
    if (spec.rfind("bars-and-stripes:", 0) == 0 || spec.rfind("ising:", 0) == 0) return {};
    detail::ParsedSpec p;
    try {
        p = detail::parse_spec(spec);
    } catch (const FormatError&) {
        return {spec};  // reading it will say what is wrong
    }
    std::vector<std::string> files = {p.path};
    if (p.kind == detail::SpecKind::idx) {
        const std::string labels = detail::idx_sibling_labels(p.path);
        if (!labels.empty()) files.push_back(labels);
    }
    return files;
}

std::unique_ptr<RowSource> memory_row_source(Dataset data) {
    return std::make_unique<MemorySource>(std::move(data));
}

}  // namespace dbn::data
