// Numeric CSV files, read one line at a time.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "dbn/data/gz_file.hpp"
#include "dbn/data/readers.hpp"

namespace dbn::data {
namespace {

using detail::errno_text;
using detail::GzFile;

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

/// @brief How the fields of a line are separated: one character, or (' ') runs of spaces and
/// tabs, as numpy.savetxt's default and most space-aligned tables write them.
constexpr char k_whitespace = ' ';

const char* delimiter_name(char delimiter) {
    switch (delimiter) {
        case ',':
            return "commas";
        case '\t':
            return "tabs";
        case ';':
            return "semicolons";
        default:
            return "whitespace";
    }
}

/// @brief The delimiter of a file from its first non-blank line, counted outside double quotes:
/// a tab, else a semicolon (the CSV of locales whose decimal mark is a comma), else a comma, else
/// blanks between fields, else (one column) a comma.
char detect_delimiter(std::string_view line) {
    std::size_t tabs = 0, semicolons = 0, commas = 0;
    bool in_quotes = false;
    for (char ch : line) {
        if (ch == '"') in_quotes = !in_quotes;
        if (in_quotes) continue;
        tabs += ch == '\t';
        semicolons += ch == ';';
        commas += ch == ',';
    }
    if (tabs > 0) return '\t';
    if (semicolons > 0) return ';';
    if (commas > 0) return ',';
    return trim(line).find(' ') != std::string_view::npos ? k_whitespace : ',';
}

/// @brief Splits `line` into its fields at `delimiter` (k_whitespace: runs of blanks, ignoring
/// those at either end), outside double quotes; each field trimmed and, when it is wholly
/// quoted ("1.5", "pixel 1"), without its quotes.
void split_fields(std::string_view line, char delimiter, std::vector<std::string_view>& fields) {
    fields.clear();
    const auto finish = [&](std::size_t from, std::size_t to) {
        std::string_view f = trim(line.substr(from, to - from));
        if (f.size() >= 2 && f.front() == '"' && f.back() == '"')
            f = trim(f.substr(1, f.size() - 2));
        fields.push_back(f);
    };
    const auto is_blank = [](char ch) { return ch == ' ' || ch == '\t'; };
    if (delimiter == k_whitespace) line = trim(line);
    std::size_t start = 0;
    bool in_quotes = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char ch = line[i];
        if (ch == '"') in_quotes = !in_quotes;
        if (in_quotes) continue;
        if (delimiter == k_whitespace ? is_blank(ch) : ch == delimiter) {
            finish(start, i);
            if (delimiter == k_whitespace)
                while (i + 1 < line.size() && is_blank(line[i + 1])) ++i;
            start = i + 1;
        }
    }
    finish(start, line.size());
}

bool all_numeric(const std::vector<std::string_view>& fields) {
    for (const std::string_view field : fields) {
        double v = 0.0;
        if (parse_number(field, v) == NumberStatus::not_a_number) return false;
    }
    return true;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
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

/// @brief A CSV file read one line at a time (the bytes of one line are all it holds), through
/// zlib: a gzip-compressed file (`.csv.gz`) is read as it is decompressed, any other passes
/// through as is.
class CsvSource : public RowSource {
public:
    CsvSource(const std::string& path, const CsvOptions& options) : RowSource(path), file_(path) {
        DBN_CHECK(options.header >= -1 && options.header <= 1, ConfigError,
                  "read_csv: header must be -1 (detect), 0 or 1 (got " << options.header << ")");
        DBN_CHECK(options.delimiter == 0 || options.delimiter == ',' || options.delimiter == '\t' ||
                      options.delimiter == ';' || options.delimiter == k_whitespace,
                  ConfigError,
                  "read_csv: delimiter must be ',', '\\t', ';', ' ' (blanks) or 0 (detect)");
        // The first non-blank line fixes the delimiter (unless given), the column count, and is
        // a header or the first row.
        std::string_view line;
        std::string comment;  // the last comment line before the first row
        while (next_line(line)) {
            // Blank lines carry no sample; a trailing one is what most writers leave. Lines
            // starting with '#' are comments, as numpy.loadtxt reads them.
            if (skipped(line)) {
                if (!trim(line).empty()) comment = std::string(trim(line).substr(1));
                continue;
            }
            delimiter_ = options.delimiter != 0 ? options.delimiter : detect_delimiter(line);
            split_fields(line, delimiter_, fields_);
            const bool header =
                options.header == 1 || (options.header == -1 && !all_numeric(fields_));
            ncols_ = fields_.size();
            std::vector<std::string> names;
            if (header)
                for (const std::string_view f : fields_) names.emplace_back(f);
            // numpy.savetxt(..., header="a b label") writes the names as a comment: a comment
            // line of as many fields, not all numbers, just before the first row names them.
            if (!header && options.header == -1 && !comment.empty()) {
                std::vector<std::string_view> named;
                split_fields(comment, delimiter_, named);
                if (named.size() == ncols_ && !all_numeric(named))
                    for (const std::string_view f : named) names.emplace_back(f);
                split_fields(line, delimiter_, fields_);
            }
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
        header = header || !names.empty();
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
            if (skipped(line)) continue;
            parse_row(line, x.data() + n * nf, has_label_ ? &labels(n) : nullptr);
            ++n;
        }
        rows_ += n;
        DBN_CHECK(rows_ > 0, FormatError, source() << ": no data rows after the header");
        return n;
    }

private:
    static bool skipped(std::string_view line) {
        line = trim(line);
        return line.empty() || line.front() == '#';
    }

    /// @brief The next line without its end-of-line characters; false at the end of the file.
    bool next_line(std::string_view& line) {
        line_buffer_.clear();
        for (;;) {
            if (pos_ == end_) {
                end_ = file_.read(buffer_.data(), buffer_.size());
                pos_ = 0;
                if (end_ == 0) break;
            }
            const auto* begin = buffer_.data() + pos_;
            const auto* newline =
                static_cast<const unsigned char*>(std::memchr(begin, '\n', end_ - pos_));
            const std::size_t take =
                newline != nullptr ? static_cast<std::size_t>(newline - begin) + 1 : end_ - pos_;
            line_buffer_.append(reinterpret_cast<const char*>(begin), take);
            pos_ += take;
            if (newline != nullptr) break;
        }
        DBN_CHECK(!file_.truncated(), FormatError,
                  source() << ": truncated gzip stream: it ends before its trailer");
        if (line_buffer_.empty()) return false;
        ++line_no_;
        DBN_CHECK(line_buffer_.find('\0') == std::string::npos, FormatError,
                  source() << ":" << line_no_ << ": a NUL byte: not a text file");
        line = std::string_view(line_buffer_);
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
        split_fields(line, delimiter_, fields_);
        DBN_CHECK(fields_.size() == ncols_, FormatError,
                  source() << ":" << line_no_ << ": " << fields_.size() << " fields separated by "
                           << delimiter_name(delimiter_) << " (expected " << ncols_ << ")");
        for (std::size_t col = 0; col < ncols_; ++col) {
            const std::string_view field = fields_[col];
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

    GzFile file_;
    std::vector<unsigned char> buffer_ = std::vector<unsigned char>(std::size_t{1} << 16);
    std::size_t pos_ = 0;  // the unread bytes of buffer_ are [pos_, end_)
    std::size_t end_ = 0;
    std::string line_buffer_;
    std::string_view line_;  // the current line, inside line_buffer_
    std::vector<std::string_view> fields_;
    char delimiter_ = ',';
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

void set_delimiter(CsvOptions& csv, const std::string& text) {
    const std::string t = lower(trim(text));
    if (t == "auto") {
        csv.delimiter = 0;
    } else if (t == "comma" || t == ",") {
        csv.delimiter = ',';
    } else if (t == "tab" || t == "\\t" || text == "\t") {
        csv.delimiter = '\t';
    } else if (t == "semicolon" || t == ";") {
        csv.delimiter = ';';
    } else if (t == "whitespace" || t == "space" || (t.empty() && !text.empty())) {
        csv.delimiter = k_whitespace;
    } else {
        throw ConfigError("delimiter: " + quote_input(text) +
                          " is none of auto, comma, tab, semicolon, whitespace");
    }
}

bool is_csv_path(const std::string& path) {
    std::string l = lower(path);
    if (detail::ends_with(l, ".gz")) l.resize(l.size() - 3);
    return detail::ends_with(l, ".csv") || detail::ends_with(l, ".tsv") ||
           detail::ends_with(l, ".txt");
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
