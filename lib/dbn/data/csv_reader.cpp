// Numeric CSV files, read one line at a time.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sys/types.h>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/readers.hpp"

namespace dbn::data {
namespace {

using detail::errno_text;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

enum class NumberStatus { ok, not_a_number, out_of_range };

/// Parses all of `field` (already trimmed) as a double; "1.5abc" and "" are not numbers.
/// NaN and infinity parse (std::from_chars accepts them); callers decide what to do with them.
NumberStatus parse_number(std::string_view field, double& value) {
    const char* first = field.data();
    const char* last = field.data() + field.size();
    // from_chars rejects a leading '+', which spreadsheets and printf("%+g") write.
    if (first != last && *first == '+' && last - first > 1 && first[1] != '-' && first[1] != '+')
        ++first;
    const auto [ptr, ec] = std::from_chars(first, last, value);
    if (ptr != last || first == last) return NumberStatus::not_a_number;
    if (ec == std::errc::invalid_argument) return NumberStatus::not_a_number;
    if (ec == std::errc::result_out_of_range) return NumberStatus::out_of_range;
    return NumberStatus::ok;
}

std::size_t count_fields(std::string_view line) {
    return static_cast<std::size_t>(std::count(line.begin(), line.end(), ',')) + 1;
}

/// Field count of a header line: commas inside double quotes do not separate names.
std::size_t count_header_fields(std::string_view line) {
    std::size_t n = 1;
    bool in_quotes = false;
    for (char ch : line) {
        if (ch == '"')
            in_quotes = !in_quotes;
        else if (ch == ',' && !in_quotes)
            ++n;
    }
    return n;
}

bool all_numeric(std::string_view line) {
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = line.find(',', start);
        const std::string_view field =
            trim(line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
        double v = 0.0;
        if (parse_number(field, v) == NumberStatus::not_a_number) return false;
        if (comma == std::string_view::npos) return true;
        start = comma + 1;
    }
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// The names of a header line, trimmed, without their double quotes.
std::vector<std::string> header_names(std::string_view line) {
    std::vector<std::string> names(1);
    bool in_quotes = false;
    for (char ch : line) {
        if (ch == '"')
            in_quotes = !in_quotes;
        else if (ch == ',' && !in_quotes)
            names.emplace_back();
        else
            names.back() += ch;
    }
    for (auto& name : names) name = std::string(trim(name));
    return names;
}

/// The first names of a header, for a message.
std::string shortened_names(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i == 8) return out + ", ...";
        out += (i > 0 ? ", " : "") + quote_input(names[i]);
    }
    return out;
}

/// @brief A CSV file read one line at a time (the bytes of one line are all it holds).
class CsvSource : public RowSource {
public:
    CsvSource(const std::string& path, const CsvOptions& options) : RowSource(path) {
        DBN_CHECK(options.header >= -1 && options.header <= 1, ConfigError,
                  "read_csv: header must be -1 (detect), 0 or 1 (got " << options.header << ")");
        errno = 0;
        file_.f = std::fopen(path.c_str(), "rb");
        DBN_CHECK(file_.f != nullptr, IoError,
                  path << ": cannot open (" << errno_text(errno) << ")");
        std::setvbuf(file_.f, nullptr, _IOFBF, std::size_t{1} << 20);
        // The first non-blank line fixes the column count and is a header or the first row.
        std::string_view line;
        while (next_line(line)) {
            // Blank lines carry no sample; a trailing one is what most writers leave.
            if (trim(line).empty()) continue;
            const bool header = options.header == 1 || (options.header == -1 && !all_numeric(line));
            ncols_ = header ? count_header_fields(line) : count_fields(line);
            const std::vector<std::string> names =
                header ? header_names(line) : std::vector<std::string>{};
            choose_label_column(path, options, header, names);
            pending_ = !header;
            break;
        }
        DBN_CHECK(ncols_ > 0, FormatError, path << ": empty file");
    }

    /// Resolves the label column: by name, by index, or none; a column named like labels
    /// without one chosen is refused (it would otherwise be trained on as a feature).
    void choose_label_column(const std::string& path, const CsvOptions& options, bool header,
                             const std::vector<std::string>& names) {
        const long n = static_cast<long>(ncols_);
        if (!options.label_name.empty()) {
            DBN_CHECK(header, ConfigError,
                      path << ": label column \"" << options.label_name
                           << "\" is a name, but the file has no header line (give its index)");
            long found = -1;
            for (std::size_t i = 0; i < names.size() && found < 0; ++i)
                if (names[i] == options.label_name) found = static_cast<long>(i);
            for (std::size_t i = 0; i < names.size() && found < 0; ++i)
                if (lower(names[i]) == lower(options.label_name)) found = static_cast<long>(i);
            DBN_CHECK(found >= 0, ConfigError,
                      path << ": no column named \"" << options.label_name << "\" in the header ("
                           << ncols_ << " columns: " << shortened_names(names) << ")");
            label_col_ = static_cast<std::size_t>(found);
            has_label_ = true;
        } else if (options.label_column != CsvOptions::no_label_column && !options.no_labels) {
            const long col =
                options.label_column < 0 ? n + options.label_column : options.label_column;
            DBN_CHECK(col >= 0 && col < n, ConfigError,
                      path << ": label column " << options.label_column << " is out of range ("
                           << ncols_ << " columns)");
            label_col_ = static_cast<std::size_t>(col);
            has_label_ = true;
        } else if (!options.no_labels) {
            for (std::size_t i = 0; i < names.size(); ++i)
                DBN_CHECK(!is_label_name(names[i]), FormatError,
                          path << ": column " << i + 1 << " is named \"" << names[i]
                               << "\"; say whether it holds the labels: --label-column " << names[i]
                               << " (config: input.label_column), or --label-column "
                                  "none to read it as a feature");
        }
    }

    std::size_t n_features() const override { return ncols_ - (has_label_ ? 1 : 0); }
    std::optional<std::size_t> size() const override { return std::nullopt; }
    bool has_labels() const override { return has_label_; }

protected:
    std::size_t read_into(std::size_t max_rows, Matrix& x, Labels& labels) override {
        std::size_t n = 0;
        const std::size_t nf = n_features();
        std::string_view line(line_);
        while (n < max_rows) {
            if (pending_) {
                pending_ = false;  // the first line, read while opening, is still in line_
            } else if (!next_line(line)) {
                break;
            }
            if (trim(line).empty()) continue;
            parse_row(line, x.data() + n * nf, has_label_ ? &labels(n) : nullptr);
            ++n;
        }
        rows_ += n;
        DBN_CHECK(rows_ > 0, FormatError, source() << ": no data rows after the header");
        return n;
    }

private:
    /// @brief The next line without its end-of-line characters; false at the end of the file.
    bool next_line(std::string_view& line) {
        errno = 0;
        const ssize_t len = ::getline(&buffer_.data, &buffer_.capacity, file_.f);
        if (len < 0) {
            DBN_CHECK(!std::ferror(file_.f), IoError,
                      source() << ": cannot read (" << errno_text(errno) << ")");
            return false;
        }
        ++line_no_;
        line = std::string_view(buffer_.data, static_cast<std::size_t>(len));
        if (line_no_ == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
        if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        line_ = line;
        return true;
    }

    void parse_row(std::string_view line, Real* out, std::int32_t* label) {
        auto fail_field = [&](std::size_t col, const char* what, std::string_view field) {
            throw FormatError(source() + ":" + std::to_string(line_no_) + ":" +
                              std::to_string(col) + ": " + what + ": " + quote_input(field));
        };
        const std::size_t nfields = count_fields(line);
        DBN_CHECK(nfields == ncols_, FormatError,
                  source() << ":" << line_no_ << ": " << nfields << " fields (expected " << ncols_
                           << ")");
        std::size_t start = 0;
        for (std::size_t col = 0; col < ncols_; ++col) {
            const std::size_t comma = line.find(',', start);
            const std::string_view field = trim(
                line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
            start = comma + 1;
            double v = 0.0;
            const NumberStatus status = parse_number(field, v);
            if (status == NumberStatus::not_a_number) fail_field(col + 1, "not a number", field);
            if (status == NumberStatus::out_of_range) fail_field(col + 1, "out of range", field);
            if (!std::isfinite(v)) fail_field(col + 1, "not a finite number", field);
            if (has_label_ && col == label_col_) {
                // Accepts "3.0" because numpy.savetxt writes labels as "3.000000000000000000e+00".
                if (v != std::floor(v) || v < std::numeric_limits<std::int32_t>::min() ||
                    v > std::numeric_limits<std::int32_t>::max())
                    fail_field(col + 1, "label is not an integer", field);
                *label = static_cast<std::int32_t>(v);
                continue;
            }
            DBN_CHECK(std::abs(v) <= std::numeric_limits<Real>::max(), FormatError,
                      source() << ":" << line_no_ << ":" << col + 1
                               << ": out of float range: " << quote_input(field));
            *out++ = static_cast<Real>(v);
        }
    }

    // Members that own, so that a constructor that throws (empty file) still releases them.
    struct File {
        std::FILE* f = nullptr;
        File() = default;
        File(const File&) = delete;
        File& operator=(const File&) = delete;
        ~File() {
            if (f != nullptr) std::fclose(f);
        }
    };
    struct LineBuffer {  // getline's buffer, grown with malloc/realloc
        char* data = nullptr;
        std::size_t capacity = 0;
        LineBuffer() = default;
        LineBuffer(const LineBuffer&) = delete;
        LineBuffer& operator=(const LineBuffer&) = delete;
        ~LineBuffer() { std::free(data); }
    };

    File file_;
    LineBuffer buffer_;
    std::string_view line_;  // the current line, inside buffer_
    std::size_t line_no_ = 0;
    std::size_t ncols_ = 0;
    std::size_t label_col_ = 0;
    bool has_label_ = false;
    bool pending_ = false;
    std::size_t rows_ = 0;
};

}  // namespace

bool is_label_name(const std::string& name) {
    const std::string l = lower(trim(name));
    return l == "label" || l == "labels" || l == "class" || l == "target" || l == "y";
}

void set_label_column(CsvOptions& csv, const std::string& text) {
    const std::string t(trim(text));
    DBN_CHECK(!t.empty(), ConfigError,
              "label column: empty (give a header name, a 0-based index, or none)");
    csv.label_column = CsvOptions::no_label_column;
    csv.label_name.clear();
    csv.no_labels = false;
    if (lower(t) == "none") {
        csv.no_labels = true;
        return;
    }
    long index = 0;
    const char* first = t.data();
    const char* last = t.data() + t.size();
    const auto [ptr, ec] = std::from_chars(first, last, index);
    if (ec == std::errc() && ptr == last && index > -(1L << 30) && index < (1L << 30)) {
        csv.label_column = index;
        return;
    }
    csv.label_name = t;
}

namespace detail {

std::unique_ptr<RowSource> open_csv(const std::string& path, const CsvOptions& options) {
    return std::make_unique<CsvSource>(path, options);
}

}  // namespace detail

Dataset read_csv(const std::string& path, const CsvOptions& options) {
    return detail::read_all(*detail::open_csv(path, options));
}

}  // namespace dbn::data
