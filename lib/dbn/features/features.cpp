#include "dbn/features/features.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/core/plural.hpp"
#include "dbn/core/version.hpp"
#include "dbn/hdf5/hdf5.hpp"

namespace dbn::features {
namespace {

namespace fs = std::filesystem;

enum class OutputKind { hdf5, csv };

bool ends_with_ci(std::string_view s, std::string_view suffix) {
    if (s.size() < suffix.size()) return false;
    const std::string_view tail = s.substr(s.size() - suffix.size());
    return std::equal(tail.begin(), tail.end(), suffix.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
    });
}

OutputKind output_kind(const std::string& out) {
    if (ends_with_ci(out, ".h5") || ends_with_ci(out, ".hdf5")) return OutputKind::hdf5;
    if (ends_with_ci(out, ".csv")) return OutputKind::csv;
    throw ConfigError(out + ": unknown output extension (expected .h5, .hdf5 or .csv)");
}

std::size_t checked_layer(const Dbn& model, std::optional<std::size_t> layer) {
    model.validate();
    const std::size_t n = model.n_layers();
    const std::size_t k = layer.value_or(n - 1);
    DBN_CHECK(k < n, ConfigError,
              "layer " << k << " does not exist (the model has " << counted(n, "layer")
                       << ": valid layers are 0.." << n - 1 << ")");
    return k;
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

/// @brief Receives the features chunk by chunk and completes the file in finish().
class FeatureWriter {
public:
    virtual ~FeatureWriter() = default;
    virtual void write(const Matrix& features, const Labels& labels) = 0;
    /// @brief Flushes and closes the file, reporting every error.
    virtual void finish() = 0;
};

class Hdf5FeatureWriter : public FeatureWriter {
public:
    Hdf5FeatureWriter(const std::string& path, const FeatureOptions& options,
                      const std::string& source, std::size_t layer, std::size_t n_features,
                      bool labels)
        : file_(hdf5::File::create(path)) {
        file_.write_string_attribute("format", "dbn-features");
        file_.write_string_attribute("library_version", library_version);
        file_.write_string_attribute("model", options.model_file);
        file_.write_string_attribute("model_name", options.model_name);
        file_.write_int_attribute("layer", static_cast<std::int64_t>(layer));
        file_.write_string_attribute("source", source);
        // HDF5 chunks of about 256 KiB, whatever the read chunk: a tiny read chunk then still
        // gives an efficient file, and a partly filled chunk stays in HDF5's 1 MiB chunk cache.
        constexpr std::size_t k_chunk_bytes = std::size_t{256} << 10;
        const std::size_t row_bytes = std::max<std::size_t>(n_features, 1) * sizeof(float);
        features_.emplace(file_.create_row_dataset<float>(
            "features", {n_features}, std::max<std::size_t>(k_chunk_bytes / row_bytes, 1)));
        if (labels) {
            labels_.emplace(file_.create_row_dataset<std::int32_t>(
                "labels", {}, k_chunk_bytes / sizeof(std::int32_t)));
        }
    }

    void write(const Matrix& features, const Labels& labels) override {
        features_->append_rows(features.data(), features.shape(0));
        if (labels_) labels_->append_rows(labels.data(), labels.size());
    }

    void finish() override {
        features_.reset();  // File::close needs every dataset of the file closed first
        labels_.reset();
        file_.close();
    }

private:
    hdf5::File file_;
    std::optional<hdf5::Dataset> features_;
    std::optional<hdf5::Dataset> labels_;
};

class CsvFeatureWriter : public FeatureWriter {
public:
    CsvFeatureWriter(const std::string& path, std::size_t n_features, bool labels)
        : path_(path), labels_(labels) {
        errno = 0;
        file_ = std::fopen(path.c_str(), "wb");
        DBN_CHECK(file_ != nullptr, IoError,
                  path << ": cannot create (" << errno_text(errno) << ")");
        std::setvbuf(file_, nullptr, _IOFBF, std::size_t{1} << 20);
        std::string header = labels ? "label" : "";
        for (std::size_t j = 0; j < n_features; ++j) {
            if (!header.empty()) header += ',';
            header += 'f' + std::to_string(j);
        }
        header += '\n';
        put(header.data(), header.size());
    }
    CsvFeatureWriter(const CsvFeatureWriter&) = delete;
    CsvFeatureWriter& operator=(const CsvFeatureWriter&) = delete;
    ~CsvFeatureWriter() override {
        if (file_ != nullptr) std::fclose(file_);
    }

    void write(const Matrix& features, const Labels& labels) override {
        const std::size_t rows = features.shape(0);
        const std::size_t cols = features.shape(1);
        // to_chars with precision 9 prints what printf("%.9g") prints (the C standard's %g rules),
        // several times faster; 9 significant digits read back as the same float32.
        line_.resize(16 * (cols + 1) + 2);
        for (std::size_t i = 0; i < rows; ++i) {
            char* p = line_.data();
            char* const end = line_.data() + line_.size();
            if (labels_) p = std::to_chars(p, end, labels(i)).ptr;
            const Real* r = features.data() + i * cols;
            for (std::size_t j = 0; j < cols; ++j) {
                if (p != line_.data()) *p++ = ',';
                p = std::to_chars(p, end, r[j], std::chars_format::general, 9).ptr;
            }
            *p++ = '\n';
            put(line_.data(), static_cast<std::size_t>(p - line_.data()));
        }
    }

    void finish() override {
        DBN_CHECK(std::fflush(file_) == 0, IoError,
                  path_ << ": cannot write (" << errno_text(errno) << ")");
        const int rc = ::fsync(::fileno(file_));
        const int err = errno;
        DBN_CHECK(rc == 0, IoError, path_ << ": cannot sync to disk (" << errno_text(err) << ")");
        std::FILE* f = std::exchange(file_, nullptr);
        DBN_CHECK(std::fclose(f) == 0, IoError,
                  path_ << ": cannot close (" << errno_text(errno) << ")");
    }

private:
    void put(const char* data, std::size_t n) {
        DBN_CHECK(std::fwrite(data, 1, n, file_) == n, IoError,
                  path_ << ": cannot write (" << errno_text(errno) << ")");
    }

    std::string path_;
    bool labels_ = false;
    std::FILE* file_ = nullptr;
    std::vector<char> line_;
};

}  // namespace

Matrix features(const Dbn& model, const Matrix& raw, std::size_t layer) {
    const std::size_t k = checked_layer(model, layer);
    DBN_CHECK(raw.shape(1) == model.n_visible(), ShapeError,
              "the data has " << counted(raw.shape(1), "column") << ", but the model has "
                              << counted(model.n_visible(), "visible unit"));
    return model.transform(raw, k);
}

FeatureSummary extract_features(const Dbn& model, const std::string& data_spec,
                                const std::string& out_path, const FeatureOptions& options) {
    // The checks that need no data come before the data is opened.
    output_kind(out_path);
    checked_layer(model, options.layer);
    DBN_CHECK(options.chunk_rows > 0, ConfigError, "chunks of features must be at least 1 row");
    const auto rows = data::open_row_source(data_spec, options.csv);
    return extract_features(model, *rows, out_path, options);
}

FeatureSummary extract_features(const Dbn& model, data::RowSource& rows,
                                const std::string& out_path, const FeatureOptions& options) {
    const OutputKind kind = output_kind(out_path);
    const std::size_t layer = checked_layer(model, options.layer);
    DBN_CHECK(options.chunk_rows > 0, ConfigError, "chunks of features must be at least 1 row");
    DBN_CHECK(rows.n_features() == model.n_visible(), ShapeError,
              rows.source() << ": " << counted(rows.n_features(), "column")
                            << ", but the model has "
                            << counted(model.n_visible(), "visible unit"));
    std::error_code ec;
    DBN_CHECK(!fs::is_directory(out_path, ec), IoError,
              out_path << ": cannot write the features: it is a folder");

    FeatureSummary summary;
    summary.layer = layer;
    summary.n_features = model.layers[layer].n_hidden();
    summary.labels = rows.has_labels();

    // Temporaries of runs that were killed while writing this output are garbage now.
    remove_stale_temp_files(out_path);
    const std::string tmp = temp_path(out_path);
    try {
        {
            std::unique_ptr<FeatureWriter> writer;
            if (kind == OutputKind::hdf5) {
                writer = std::make_unique<Hdf5FeatureWriter>(tmp, options, rows.source(), layer,
                                                             summary.n_features, summary.labels);
            } else {
                writer =
                    std::make_unique<CsvFeatureWriter>(tmp, summary.n_features, summary.labels);
            }
            data::Dataset chunk;
            while (const std::size_t n = rows.read(options.chunk_rows, chunk)) {
                writer->write(model.transform(chunk.x, layer), chunk.labels);
                summary.rows += n;
            }
            writer->finish();
        }
        if (kind == OutputKind::hdf5) sync_file(tmp);  // the CSV writer syncs before closing
        fs::rename(tmp, out_path, ec);
        DBN_CHECK(!ec, IoError,
                  out_path << ": cannot write the features: renaming " << tmp << " over it failed ("
                           << ec.message() << ")");
    } catch (...) {
        // The writer is gone (its scope ended during unwinding), so its file is closed.
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
    return summary;
}

}  // namespace dbn::features
