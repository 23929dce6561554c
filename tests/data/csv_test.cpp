#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "dbn/core/error.hpp"
#include "dbn/data/dataset.hpp"
#include "support/temp_dir.hpp"

namespace dbn::data {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::io_error_not_format_of;
using testing::TempDir;

CsvOptions with_label(long column) {
    CsvOptions o;
    o.label_column = column;
    return o;
}

TEST(CsvReader, ReadsNumbersInEveryNotation) {
    TempDir tmp;
    const auto path = tmp.file("a.csv", "1,-2.5,3e2\r\n +4 , .5,-1E-3\n");
    const Dataset d = read_csv(path);
    ASSERT_EQ(d.size(), 2U);
    ASSERT_EQ(d.n_features(), 3U);
    EXPECT_FALSE(d.has_labels());
    EXPECT_FLOAT_EQ(d.x(0, 0), 1.0f);
    EXPECT_FLOAT_EQ(d.x(0, 1), -2.5f);
    EXPECT_FLOAT_EQ(d.x(0, 2), 300.0f);
    EXPECT_FLOAT_EQ(d.x(1, 0), 4.0f);
    EXPECT_FLOAT_EQ(d.x(1, 1), 0.5f);
    EXPECT_FLOAT_EQ(d.x(1, 2), -0.001f);
}

TEST(CsvReader, DetectsHeader) {
    TempDir tmp;
    const Dataset d = read_csv(tmp.file("h.csv", "a,b\n1,2\n3,4\n"));
    ASSERT_EQ(d.size(), 2U);
    EXPECT_FLOAT_EQ(d.x(0, 0), 1.0f);
    // A numeric first line is data.
    EXPECT_EQ(read_csv(tmp.file("n.csv", "1,2\n3,4\n")).size(), 2U);
    // pandas writes an empty first name for the index column.
    EXPECT_EQ(read_csv(tmp.file("p.csv", ",x\n0,5\n")).size(), 1U);
}

TEST(CsvReader, QuotedHeaderNamesMayHoldCommas) {
    TempDir tmp;
    const Dataset d = read_csv(tmp.file("q.csv", "\"a,b\",c\n1,2\n"));
    EXPECT_EQ(d.n_features(), 2U);
}

TEST(CsvReader, HeaderOptionOverridesDetection) {
    TempDir tmp;
    const auto numeric = tmp.file("n.csv", "1,2\n3,4\n");
    CsvOptions yes;
    yes.header = 1;
    const Dataset d = read_csv(numeric, yes);
    ASSERT_EQ(d.size(), 1U);
    EXPECT_FLOAT_EQ(d.x(0, 0), 3.0f);

    const auto named = tmp.file("h.csv", "a,b\n1,2\n");
    CsvOptions no;
    no.header = 0;
    const auto msg = error_of<FormatError>([&] { read_csv(named, no); });
    EXPECT_NE(msg.find(named + ":1:1: not a number: \"a\""), std::string::npos) << msg;
}

TEST(CsvReader, RejectsBadHeaderOption) {
    TempDir tmp;
    CsvOptions o;
    o.header = 2;
    EXPECT_THROW(read_csv(tmp.file("a.csv", "1\n"), o), ConfigError);
}

CsvOptions label_text(const std::string& text) {
    CsvOptions o;
    set_label_column(o, text);
    return o;
}

TEST(CsvReader, LabelColumnByHeaderNameGivesTheSameRowsAsByIndex) {
    TempDir tmp;
    const auto path = tmp.file("n.csv", "a,\"Digit\",b\n0.5,3,1\n2,7,3\n");
    const Dataset by_name = read_csv(path, label_text("Digit"));
    const Dataset by_case = read_csv(path, label_text("digit"));
    const Dataset by_index = read_csv(path, label_text("1"));
    for (const Dataset* d : {&by_name, &by_case, &by_index}) {
        ASSERT_EQ(d->n_features(), 2U);
        ASSERT_TRUE(d->has_labels());
        EXPECT_EQ(d->labels(0), 3);
        EXPECT_EQ(d->labels(1), 7);
        EXPECT_FLOAT_EQ(d->x(0, 1), 1.0f);
        EXPECT_FLOAT_EQ(d->x(1, 0), 2.0f);
    }
}

TEST(CsvReader, ALabelNamedHeaderColumnIsRefusedUnlessNamed) {
    TempDir tmp;
    for (const std::string name : {"label", "Labels", "CLASS", "target", "y"}) {
        const auto path = tmp.file("l.csv", "a,b," + name + "\n1,2,0\n3,4,1\n");
        const auto msg = error_of<FormatError>([&] { read_csv(path); });
        EXPECT_NE(msg.find("column 3 is named \"" + name + "\""), std::string::npos) << msg;
        EXPECT_NE(msg.find("--label-column"), std::string::npos) << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
        const Dataset labelled = read_csv(path, label_text(name));
        EXPECT_EQ(labelled.n_features(), 2U);
        EXPECT_EQ(labelled.labels(1), 1);
        const Dataset features = read_csv(path, label_text("none"));
        EXPECT_EQ(features.n_features(), 3U);
        EXPECT_FALSE(features.has_labels());
    }
    // Names that merely contain the words are features.
    EXPECT_EQ(read_csv(tmp.file("f.csv", "ylabel,classes\n1,2\n")).n_features(), 2U);
}

TEST(CsvReader, AnUnknownLabelNameOrANameWithoutHeaderIsAConfigError) {
    TempDir tmp;
    const auto msg = error_of<ConfigError>(
        [&] { read_csv(tmp.file("a.csv", "a,b\n1,2\n"), label_text("label")); });
    EXPECT_NE(msg.find("no column named \"label\""), std::string::npos) << msg;
    EXPECT_THROW(read_csv(tmp.file("n.csv", "1,2\n"), label_text("label")), ConfigError);
    CsvOptions o;
    EXPECT_THROW(set_label_column(o, " "), ConfigError);
}

TEST(CsvReader, ReadLabelsTakesTheNamedColumn) {
    TempDir tmp;
    const auto path = tmp.file("l.csv", "a,label\n1,4\n3,5\n");
    const Labels l = read_labels(path, label_text("label"));
    ASSERT_EQ(l.size(), 2U);
    EXPECT_EQ(l(0), 4);
    EXPECT_EQ(l(1), 5);
    // A one-column labels file with the header "label" needs no flag.
    const Labels one = read_labels(tmp.file("y.csv", "label\n2\n1\n"));
    EXPECT_EQ(one(0), 2);
}

TEST(CsvReader, LabelColumnFirst) {
    TempDir tmp;
    const Dataset d = read_csv(tmp.file("l.csv", "y,a,b\n3,0.5,1\n7,2,3\n"), with_label(0));
    ASSERT_EQ(d.n_features(), 2U);
    ASSERT_TRUE(d.has_labels());
    EXPECT_EQ(d.labels(0), 3);
    EXPECT_EQ(d.labels(1), 7);
    EXPECT_FLOAT_EQ(d.x(0, 0), 0.5f);
    EXPECT_FLOAT_EQ(d.x(1, 1), 3.0f);
}

TEST(CsvReader, LabelColumnMinusOneIsLast) {
    TempDir tmp;
    // numpy.savetxt writes integers as floats; they are still integers.
    const Dataset d =
        read_csv(tmp.file("l.csv", "0.5,1,3.000000000000000000e+00\n2,3,-1\n"), with_label(-1));
    ASSERT_EQ(d.n_features(), 2U);
    EXPECT_EQ(d.labels(0), 3);
    EXPECT_EQ(d.labels(1), -1);
    EXPECT_FLOAT_EQ(d.x(1, 0), 2.0f);
}

TEST(CsvReader, LabelColumnInTheMiddle) {
    TempDir tmp;
    const Dataset d = read_csv(tmp.file("l.csv", "1,5,2\n3,6,4\n"), with_label(-2));
    EXPECT_EQ(d.labels(1), 6);
    EXPECT_FLOAT_EQ(d.x(1, 0), 3.0f);
    EXPECT_FLOAT_EQ(d.x(1, 1), 4.0f);
}

TEST(CsvReader, RejectsNonIntegerLabel) {
    TempDir tmp;
    const auto path = tmp.file("l.csv", "1,2\n1,2.5\n");
    const auto msg = error_of<FormatError>([&] { read_csv(path, with_label(-1)); });
    EXPECT_NE(msg.find(path + ":2:2: label is not an integer: \"2.5\""), std::string::npos) << msg;
}

TEST(CsvReader, RejectsLabelColumnOutOfRange) {
    TempDir tmp;
    const auto path = tmp.file("l.csv", "1,2\n");
    EXPECT_THROW(read_csv(path, with_label(2)), ConfigError);
    EXPECT_THROW(read_csv(path, with_label(-3)), ConfigError);
}

TEST(CsvReader, RejectsRaggedRow) {
    TempDir tmp;
    const auto path = tmp.file("r.csv", "a,b,c,d\n1,2,3,4\n1,2,3,4,5\n");
    const auto msg = error_of<FormatError>([&] { read_csv(path); });
    EXPECT_NE(msg.find(path + ":3: 5 fields separated by commas (expected 4)"), std::string::npos)
        << msg;
    const auto short_row = tmp.file("s.csv", "1,2,3\n1,2\n");
    const auto msg2 = error_of<FormatError>([&] { read_csv(short_row); });
    EXPECT_NE(msg2.find(":2: 2 fields separated by commas (expected 3)"), std::string::npos)
        << msg2;
}

TEST(CsvReader, RejectsTextInNumber) {
    TempDir tmp;
    const auto path = tmp.file("t.csv", "1,2,3\n4,5,abc\n");
    const auto msg = error_of<FormatError>([&] { read_csv(path); });
    EXPECT_NE(msg.find(path + ":2:3: not a number: \"abc\""), std::string::npos) << msg;
}

TEST(CsvReader, RejectsTrailingGarbage) {
    TempDir tmp;
    const auto path = tmp.file("t.csv", "1,2\n1.5abc,2\n");
    const auto msg = error_of<FormatError>([&] { read_csv(path); });
    EXPECT_NE(msg.find(":2:1: not a number: \"1.5abc\""), std::string::npos) << msg;
    EXPECT_THROW(read_csv(tmp.file("u.csv", "1,2\n1 2,3\n")), FormatError);
    EXPECT_THROW(read_csv(tmp.file("v.csv", "1,2\n+-1,3\n")), FormatError);
    EXPECT_THROW(read_csv(tmp.file("w.csv", "1,2\n0x10,3\n")), FormatError);
}

TEST(CsvReader, RejectsEmptyField) {
    TempDir tmp;
    const auto path = tmp.file("e.csv", "1,2,3\n4,,6\n");
    const auto msg = error_of<FormatError>([&] { read_csv(path); });
    EXPECT_NE(msg.find(":2:2: not a number: \"\""), std::string::npos) << msg;
}

TEST(CsvReader, RejectsNaNAndInfinity) {
    TempDir tmp;
    for (const std::string bad : {"nan", "NaN", "inf", "-Infinity"}) {
        const auto path = tmp.file("n.csv", "1,2\n3," + bad + "\n");
        const auto msg = error_of<FormatError>([&] { read_csv(path); });
        EXPECT_NE(msg.find(path + ":2:2: not a finite number: \"" + bad + "\""), std::string::npos)
            << msg;
    }
}

TEST(CsvReader, RejectsValuesBeyondFloatRange) {
    TempDir tmp;
    const auto msg = error_of<FormatError>([&] { read_csv(tmp.file("b.csv", "1,1e39\n")); });
    EXPECT_NE(msg.find(":1:2: out of float range"), std::string::npos) << msg;
    EXPECT_THROW(read_csv(tmp.file("c.csv", "1,1e400\n")), FormatError);
}

TEST(CsvReader, RejectsEmptyFile) {
    TempDir tmp;
    for (const std::string text : {"", "\n\n", "  \r\n"}) {
        const auto path = tmp.file("e.csv", text);
        const auto msg = error_of<FormatError>([&] { read_csv(path); });
        EXPECT_NE(msg.find(path + ": empty file"), std::string::npos) << msg;
    }
}

TEST(CsvReader, RejectsHeaderWithoutRows) {
    TempDir tmp;
    const auto msg = error_of<FormatError>([&] { read_csv(tmp.file("h.csv", "a,b\n")); });
    EXPECT_NE(msg.find("no data rows"), std::string::npos) << msg;
}

TEST(CsvReader, SkipsBlankLinesAndByteOrderMark) {
    TempDir tmp;
    const Dataset d = read_csv(tmp.file("b.csv", "\xEF\xBB\xBFx,w\n\n1,2\n\n3,4\n\n"));
    ASSERT_EQ(d.size(), 2U);
    EXPECT_FLOAT_EQ(d.x(1, 1), 4.0f);
    // Line numbers in messages still count the blank lines.
    const auto path = tmp.file("c.csv", "1,2\n\n3,x\n");
    const auto msg = error_of<FormatError>([&] { read_csv(path); });
    EXPECT_NE(msg.find(path + ":3:2:"), std::string::npos) << msg;
}

TEST(CsvReader, LastLineWithoutNewline) {
    TempDir tmp;
    const Dataset d = read_csv(tmp.file("n.csv", "1,2\n3,4"));
    ASSERT_EQ(d.size(), 2U);
    EXPECT_FLOAT_EQ(d.x(1, 1), 4.0f);
}

TEST(CsvReader, MissingFileIsIoError) {
    TempDir tmp;
    const auto path = tmp.path("absent.csv");
    const std::string msg = io_error_not_format_of([&] { read_csv(path); });
    EXPECT_NE(msg.find(path + ": cannot open (No such file"), std::string::npos) << msg;
}

TEST(CsvDataset, ReadDatasetPassesOptions) {
    TempDir tmp;
    const auto path = tmp.file("d.CSV", "f1,f2,label\n0,1,4\n1,0,5\n");
    const Dataset d = read_dataset(path, with_label(-1));
    EXPECT_EQ(d.source, path);
    EXPECT_EQ(d.n_features(), 2U);
    EXPECT_EQ(d.labels(1), 5);
}

TEST(CsvLabels, OneColumnFile) {
    TempDir tmp;
    const Labels l = read_labels(tmp.file("y.csv", "label\n1\n0\n2\n"));
    ASSERT_EQ(l.size(), 3U);
    EXPECT_EQ(l(2), 2);
}

TEST(CsvLabels, NamedColumnOfAWiderFile) {
    TempDir tmp;
    const Labels l = read_labels(tmp.file("y.csv", "1,0.5\n2,0.25\n"), with_label(0));
    ASSERT_EQ(l.size(), 2U);
    EXPECT_EQ(l(1), 2);
}

TEST(CsvLabels, WiderFileNeedsALabelColumn) {
    TempDir tmp;
    const auto msg = error_of<FormatError>([&] { read_labels(tmp.file("y.csv", "1,2\n3,4\n")); });
    EXPECT_NE(msg.find("a labels file needs one column (got 2)"), std::string::npos) << msg;
}

TEST(CsvReader, DetectsTabSemicolonAndBlankDelimitersAndReadsQuotedNumbers) {
    TempDir tmp;
    const std::vector<std::pair<std::string, std::string>> files = {
        {"comma.csv", "a,b,c\n1,2.5,3\n4,5,6\n"},
        {"tab.tsv", "a\tb\tc\n1\t2.5\t3\n4\t5\t6\n"},
        {"semi.csv", "\xEF\xBB\xBF\"a\";\"b\";\"c\"\r\n\"1\";\"2.5\";\"3\"\r\n4;5;6\r\n"},
        // numpy.savetxt: blanks, exponents, a '#' header, runs of blanks and a leading one.
        {"saved.txt", "# a b c\n1.0e+00 2.5e+00 3.0e+00\n 4   5\t6 \n"},
    };
    for (const auto& [name, text] : files) {
        SCOPED_TRACE(name);
        const Dataset d = read_csv(tmp.file(name, text));
        ASSERT_EQ(d.size(), 2U);
        ASSERT_EQ(d.n_features(), 3U);
        EXPECT_EQ(d.x(0, 1), 2.5f);
        EXPECT_EQ(d.x(1, 0), 4.0f);
        EXPECT_EQ(d.x(1, 2), 6.0f);
    }
    // The '#' header of savetxt names the columns, so a label column can be named.
    CsvOptions named;
    set_label_column(named, "c");
    EXPECT_EQ(read_csv(tmp.path("saved.txt"), named).labels(1), 6);
}

TEST(CsvReader, AGivenDelimiterWinsOverDetection) {
    TempDir tmp;
    const auto blanks = tmp.file("a.txt", " 1 2\n 3 4\n");
    EXPECT_EQ(read_csv(blanks).n_features(), 2U);
    CsvOptions comma;
    set_delimiter(comma, "comma");
    EXPECT_THROW(read_csv(blanks, comma), FormatError);  // one field "1 2"
    // A decimal comma is not read: "2,5" is no number (so the first line reads as a header).
    const auto european = tmp.file("b.csv", "1;2,5\n3;4,5\n");
    try {
        (void)read_csv(european);
        FAIL() << "expected FormatError";
    } catch (const FormatError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr(":2:2: not a number: \"4,5\""));
    }
    CsvOptions bad;
    EXPECT_THROW(set_delimiter(bad, "|"), ConfigError);
    for (const char* ok : {"auto", "TAB", "\\t", ";", "whitespace", " "})
        EXPECT_NO_THROW(set_delimiter(bad, ok)) << ok;
}

TEST(CsvReader, ANulByteIsRefusedAsNotText) {
    TempDir tmp;
    const auto path = tmp.file("a.csv", std::string("1,2\n\0,3\n", 8));
    try {
        (void)read_csv(path);
        FAIL() << "expected FormatError";
    } catch (const FormatError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr(":2: a NUL byte: not a text file"));
    }
}

TEST(CsvReader, TxtTsvAndGzipNamesAreCsv) {
    for (const char* yes : {"a.csv", "a.TSV", "a.txt", "a.csv.gz", "b.tsv.GZ"})
        EXPECT_TRUE(is_csv_path(yes)) << yes;
    for (const char* no : {"a.npy", "a.gz", "a.csvx", "a.h5"}) EXPECT_FALSE(is_csv_path(no)) << no;
}

}  // namespace
}  // namespace dbn::data
