// Numeric HDF5 datasets, read by hyperslabs of rows.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/readers.hpp"
#include "dbn/hdf5/hdf5.hpp"
#include "dbn/hdf5/trial_read.hpp"

namespace dbn::data {
namespace {

using hdf5::TypeClass;

/// @brief The path of the `labels` dataset beside `dataset` ("/train/x" -> "/train/labels").
std::string sibling_labels(const std::string& dataset) {
    const std::size_t slash = dataset.find_last_of('/');
    if (slash == std::string::npos) return "labels";
    return dataset.substr(0, slash + 1) + "labels";
}

/// @brief Strips repeated and trailing slashes so that "/a//b/" and "/a/b" compare equal.
std::string normalized(const std::string& path) {
    std::string out;
    for (char c : path) {
        if (c == '/' && !out.empty() && out.back() == '/') continue;
        out += c;
    }
    if (out.size() > 1 && out.back() == '/') out.pop_back();
    if (!out.empty() && out.front() != '/') out.insert(out.begin(), '/');
    return out;
}

class Hdf5Source : public RowSource {
public:
    Hdf5Source(const std::string& path, const std::string& dataset)
        : RowSource(path + ":" + dataset),
          file_(hdf5::File::open(path)),  // IoError / FormatError name `path`
          data_(open_data(file_, source(), dataset)) {
        const auto type = data_.type();
        DBN_CHECK(type.type_class == TypeClass::integer || type.type_class == TypeClass::floating,
                  FormatError,
                  source() << ": holds " << type.name() << " values (expected integers or floats)");
        const auto shape = data_.shape();
        DBN_CHECK(!shape.empty(), FormatError,
                  source() << ": is a single number (expected samples, samples x features, or "
                              "samples x a shape such as 28 x 28)");
        // Every dimension after the first is flattened into the columns of one row.
        rows_ = shape[0];
        cols_ = 1;
        for (std::size_t d = 1; d < shape.size(); ++d) {
            DBN_CHECK(shape[d] == 0 || cols_ <= (std::size_t{1} << 40) / shape[d], FormatError,
                      source() << ": a sample of more than 2^40 values");
            cols_ *= shape[d];
        }
        if (shape.size() > 1)
            sample_shape_.assign(shape.begin() + 1, shape.end());
        else
            sample_shape_ = {1};

        const std::string labels_path = sibling_labels(dataset);
        if (normalized(labels_path) == normalized(dataset) || !file_.exists(labels_path)) return;
        labels_where_ = path + ":" + labels_path;
        DBN_CHECK(file_.has_dataset(labels_path), FormatError,
                  labels_where_ << ": is not a dataset (a labels dataset was expected)");
        labels_.emplace(file_.open_dataset(labels_path));
        const auto ltype = labels_->type();
        DBN_CHECK(ltype.type_class == TypeClass::integer, FormatError,
                  labels_where_ << ": labels must be integers (got " << ltype.name() << ")");
        const auto lshape = labels_->shape();
        DBN_CHECK(lshape.size() == 1, FormatError,
                  labels_where_ << ": labels must be one-dimensional (got " << lshape.size()
                                << " dimensions)");
        DBN_CHECK(lshape[0] == rows_, FormatError,
                  labels_where_ << ": " << lshape[0] << " labels for " << rows_ << " samples");
    }

    std::size_t n_features() const override { return cols_; }
    std::optional<std::size_t> size() const override { return rows_; }
    bool has_labels() const override { return labels_.has_value(); }
    std::vector<std::size_t> sample_shape() const override { return sample_shape_; }

protected:
    std::size_t read_into(std::size_t max_rows, Matrix& x, Labels& labels) override {
        const std::size_t n = std::min(max_rows, rows_ - next_);
        if (n == 0) return 0;
        // HDF5 converts any integer or float type to float32 on the way in.
        data_.read_rows(next_, n, x.data(), n * cols_);
        const Real* v = x.data();
        for (std::size_t i = 0; i < n * cols_; ++i) {
            DBN_CHECK(std::isfinite(v[i]), FormatError,
                      source() << ": value at row " << next_ + i / cols_ << ", column " << i % cols_
                               << " is " << v[i] << " (data must be finite)");
        }
        if (labels_) {
            // Read wide and narrow by hand: HDF5 would clip out-of-range values without a word.
            wide_.resize(n);
            labels_->read_rows(next_, n, wide_.data(), n);
            for (std::size_t i = 0; i < n; ++i) {
                DBN_CHECK(wide_[i] >= std::numeric_limits<std::int32_t>::min() &&
                              wide_[i] <= std::numeric_limits<std::int32_t>::max(),
                          FormatError,
                          labels_where_ << ": label " << next_ + i << " (" << wide_[i]
                                        << ") is out of the int32 range");
                labels(i) = static_cast<std::int32_t>(wide_[i]);
            }
        }
        next_ += n;
        return n;
    }

private:
    static hdf5::Dataset open_data(const hdf5::File& file, const std::string& where,
                                   const std::string& dataset) {
        DBN_CHECK(file.has_dataset(dataset), FormatError, where << ": no such dataset");
        return file.open_dataset(dataset);
    }

    std::string labels_where_;
    hdf5::File file_;  // declared first: the datasets close before the file
    hdf5::Dataset data_;
    std::optional<hdf5::Dataset> labels_;
    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    std::size_t next_ = 0;
    std::vector<std::size_t> sample_shape_;
    std::vector<std::int64_t> wide_;
};

}  // namespace

namespace detail {

std::unique_ptr<RowSource> open_hdf5(const std::string& path, const std::string& dataset) {
    // The whole dataset (and its labels) is read once in a child process first, in bounded
    // chunks: a damaged file can crash or hang libhdf5 itself (a local heap of a declared
    // 32 TB, a compact layout read past its buffer, fuzz_hdf5_data), which no check before
    // the read can rule out.
    hdf5::trial_read(path, [&] {
        Hdf5Source source(path, dataset);
        const std::size_t rows = std::max<std::size_t>(
            1, (std::size_t{1} << 22) / std::max<std::size_t>(source.n_features(), 1));
        Dataset chunk;
        while (source.read(rows, chunk) > 0) {}
    });
    return std::make_unique<Hdf5Source>(path, dataset);
}

}  // namespace detail

Dataset read_hdf5(const std::string& path, const std::string& dataset) {
    return detail::read_all(*detail::open_hdf5(path, dataset));
}

}  // namespace dbn::data
