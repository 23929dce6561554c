#include "dbn/hdf5/hdf5.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dbn/core/error.hpp"
#include "dbn/hdf5/trial_read.hpp"
#include "io/io_support.hpp"

namespace dbn {
namespace {

using hdf5::Dataset;
using hdf5::File;
using hdf5::Group;
using hdf5::TypeClass;
using ::testing::HasSubstr;
using testing::test_dir;

template <class T>
void expect_dataset_round_trip(Group& g, const std::string& name, const std::vector<T>& values,
                               const std::vector<std::size_t>& shape, const char* dtype) {
    g.write_dataset(name, values.data(), shape);
    const Dataset ds = g.open_dataset(name);
    EXPECT_EQ(ds.shape(), shape) << name;
    EXPECT_EQ(ds.type().name(), dtype) << name;
    EXPECT_EQ(ds.read<T>(), values) << name;
}

TEST(Hdf5Dataset, EveryElementTypeRoundTrips) {
    const std::string path = test_dir() + "/types.h5";
    {
        File f = File::create(path);
        expect_dataset_round_trip<float>(f, "f32", {1.5f, -2.0f, 3e-38f, 7.0f, 0.0f, -0.0f}, {2, 3},
                                         "float32");
        expect_dataset_round_trip<double>(f, "g/f64", {1e300, -1e-300, 0.1}, {3}, "float64");
        expect_dataset_round_trip<std::int32_t>(
            f, "i32", {std::numeric_limits<std::int32_t>::min(), 0, 5, 7}, {2, 2}, "int32");
        expect_dataset_round_trip<std::int64_t>(
            f, "i64", {std::numeric_limits<std::int64_t>::max(), -1}, {2}, "int64");
        expect_dataset_round_trip<std::uint64_t>(
            f, "u64", {std::numeric_limits<std::uint64_t>::max(), 0}, {1, 2}, "uint64");
        f.close();
    }
    // And again from a file opened afresh, read-only.
    const File f = File::open(path);
    EXPECT_EQ(f.open_dataset("/g/f64").read<double>(), (std::vector<double>{1e300, -1e-300, 0.1}));
}

TEST(Hdf5Dataset, ConvertsOnRead) {
    const std::string path = test_dir() + "/convert.h5";
    File f = File::create(path);
    const std::vector<std::int32_t> ints{1, -2, 3};
    f.write_dataset("ints", ints.data(), {3});
    EXPECT_EQ(f.open_dataset("ints").read<float>(), (std::vector<float>{1.0f, -2.0f, 3.0f}));
    const std::vector<double> d{0.1, 2.5};
    f.write_dataset("doubles", d.data(), {2});
    EXPECT_EQ(f.open_dataset("doubles").read<float>(), (std::vector<float>{0.1f, 2.5f}));
}

TEST(Hdf5Dataset, ZeroSizedAndScalarShapes) {
    const std::string path = test_dir() + "/empty.h5";
    File f = File::create(path);
    f.write_dataset<double>("empty", nullptr, {0});
    EXPECT_EQ(f.open_dataset("empty").shape(), std::vector<std::size_t>{0});
    EXPECT_TRUE(f.open_dataset("empty").read<double>().empty());
    const double x = 4.25;
    f.write_dataset("scalar", &x, {});
    EXPECT_EQ(f.open_dataset("scalar").rank(), 0U);
    EXPECT_EQ(f.open_dataset("scalar").read<double>(), std::vector<double>{4.25});
}

TEST(Hdf5Dataset, ReadingStringsAsNumbersIsAFormatError) {
    const std::string path = test_dir() + "/strings.h5";
    File f = File::create(path);
    f.write_strings("names", {"a", "bb"});
    EXPECT_EQ(f.open_dataset("names").type().type_class, TypeClass::string);
    try {
        (void)f.open_dataset("names").read<float>();
        FAIL() << "expected FormatError";
    } catch (const FormatError& e) {
        EXPECT_THAT(e.what(), HasSubstr(path + ": /names"));
        EXPECT_THAT(e.what(), HasSubstr("string"));
    }
}

TEST(Hdf5Dataset, WrongBufferSizeIsAShapeError) {
    const std::string path = test_dir() + "/size.h5";
    File f = File::create(path);
    const std::vector<float> v{1, 2, 3};
    f.write_dataset("v", v.data(), {3});
    std::vector<float> out(2);
    EXPECT_THROW(f.open_dataset("v").read(out.data(), out.size()), ShapeError);
}

TEST(Hdf5Attribute, ScalarsRoundTrip) {
    const std::string path = test_dir() + "/attrs.h5";
    {
        File f = File::create(path);
        Group g = f.create_group("a/b");
        g.write_string_attribute("s", "h\xc3\xa9llo");
        g.write_string_attribute("empty", "");
        g.write_int_attribute("i", -42);
        g.write_uint_attribute("u", std::numeric_limits<std::uint64_t>::max());
        g.write_double_attribute("d", 0.1);
        g.write_int_attribute("replaced", 1);
        g.write_string_attribute("replaced", "now a string");
        f.close();
    }
    const File f = File::open(path);
    const Group g = f.open_group("/a/b");
    EXPECT_EQ(g.read_string_attribute("s"), "h\xc3\xa9llo");
    EXPECT_EQ(g.read_string_attribute("empty"), "");
    EXPECT_EQ(g.read_int_attribute("i"), -42);
    EXPECT_EQ(g.read_double_attribute("i"), -42.0);
    EXPECT_EQ(g.read_uint_attribute("u"), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(g.read_double_attribute("d"), 0.1);
    EXPECT_EQ(g.read_string_attribute("replaced"), "now a string");
    EXPECT_EQ(g.attribute_type("u").name(), "uint64");
    EXPECT_EQ(g.attribute_names(),
              (std::vector<std::string>{"d", "empty", "i", "replaced", "s", "u"}));
}

// Strings are fixed-length, inside the (checksummed) object header: a variable-length string
// would report the size of a pointer and live in the global heap, whose damage crashed HDF5.
TEST(Hdf5Attribute, StringsAreWrittenFixedLength) {
    const std::string path = test_dir() + "/fixed.h5";
    {
        File f = File::create(path);
        f.write_string_attribute("s", "dbn-model-0123456789");
        f.write_string_attribute("empty", "");
        f.close();
    }
    const File f = File::open(path);
    EXPECT_EQ(f.attribute_type("s").type_class, hdf5::TypeClass::string);
    EXPECT_EQ(f.attribute_type("s").size, 20u);
    EXPECT_EQ(f.attribute_type("empty").size, 1u);
    EXPECT_EQ(f.read_string_attribute("s"), "dbn-model-0123456789");
    EXPECT_EQ(f.read_string_attribute("empty"), "");
}

TEST(Hdf5Attribute, TypeMismatchesAreFormatErrorsNamingTheAttribute) {
    const std::string path = test_dir() + "/mismatch.h5";
    File f = File::create(path);
    f.write_string_attribute("s", "text");
    f.write_double_attribute("d", 1.5);
    f.write_int_attribute("neg", -1);
    f.write_uint_attribute("huge", std::numeric_limits<std::uint64_t>::max());
    auto expect_format_error = [&](auto&& read, const std::string& part) {
        try {
            read();
            ADD_FAILURE() << "expected FormatError about " << part;
        } catch (const FormatError& e) {
            EXPECT_THAT(e.what(), HasSubstr(path + ": /"));
            EXPECT_THAT(e.what(), HasSubstr(part));
        }
    };
    expect_format_error([&] { f.read_int_attribute("s"); }, "\"s\" is string");
    expect_format_error([&] { f.read_double_attribute("s"); }, "expected a number");
    expect_format_error([&] { f.read_int_attribute("d"); }, "expected an integer");
    expect_format_error([&] { f.read_string_attribute("d"); }, "expected a string");
    expect_format_error([&] { f.read_uint_attribute("neg"); }, "negative");
    expect_format_error([&] { f.read_int_attribute("huge"); }, "out of range");
    expect_format_error([&] { f.read_int_attribute("absent"); }, "missing attribute \"absent\"");
}

TEST(Hdf5Group, ExistenceChecksNeverThrowForMissingParents) {
    const std::string path = test_dir() + "/tree.h5";
    File f = File::create(path);
    const std::vector<float> v{1};
    f.write_dataset("a/b/data", v.data(), {1});
    EXPECT_TRUE(f.exists("a"));
    EXPECT_TRUE(f.exists("/a/b/data"));
    EXPECT_TRUE(f.has_group("a/b"));
    EXPECT_FALSE(f.has_dataset("a/b"));
    EXPECT_TRUE(f.has_dataset("a/b/data"));
    EXPECT_FALSE(f.exists("x/y/z"));
    EXPECT_FALSE(f.exists("a/b/data/deeper"));  // a dataset has no members
    EXPECT_TRUE(f.exists("/"));
    const Group a = f.open_group("a");
    EXPECT_TRUE(a.has_dataset("b/data"));
    EXPECT_EQ(a.open_group("b").path(), "/a/b");
    EXPECT_EQ(f.children(), std::vector<std::string>{"a"});
}

TEST(Hdf5Group, MissingObjectsAreFormatErrorsNamingThePath) {
    const std::string path = test_dir() + "/missing.h5";
    File f = File::create(path);
    f.create_group("g");
    try {
        f.open_dataset("/g/nothing");
        FAIL() << "expected FormatError";
    } catch (const FormatError& e) {
        EXPECT_EQ(std::string(e.what()), path + ": /g/nothing: no such dataset");
    }
    EXPECT_THROW(f.open_group("/g/nothing"), FormatError);
    EXPECT_THROW(f.create_group("g"), IoError);
    EXPECT_THROW(f.remove("nothing"), IoError);
}

TEST(Hdf5File, MissingFileIsAnIoErrorNamingIt) {
    const std::string path = test_dir() + "/absent.h5";
    try {
        File::open(path);
        FAIL() << "expected IoError";
    } catch (const FormatError&) {
        FAIL() << "expected a plain IoError";
    } catch (const IoError& e) {
        EXPECT_THAT(e.what(), HasSubstr(path));
    }
}

TEST(Hdf5File, OtherFilesAreFormatErrors) {
    const std::string path = test_dir() + "/text.h5";
    { std::ofstream(path) << "not hdf5\n"; }
    EXPECT_FALSE(hdf5::is_hdf5(path));
    try {
        File::open(path);
        FAIL() << "expected FormatError";
    } catch (const FormatError& e) {
        EXPECT_EQ(std::string(e.what()), path + ": not an HDF5 file");
    }
}

TEST(Hdf5File, CreateInMissingDirectoryIsAnIoError) {
    const std::string path = test_dir() + "/missing/dir/f.h5";
    try {
        File::create(path);
        FAIL() << "expected IoError";
    } catch (const IoError& e) {
        EXPECT_THAT(e.what(), HasSubstr(path));
        EXPECT_THAT(e.what(), HasSubstr("cannot create"));
    }
}

TEST(Hdf5File, FailuresPrintNothing) {
    const std::string dir = test_dir();
    ::testing::internal::CaptureStderr();
    EXPECT_THROW(File::create(dir + "/missing/f.h5"), IoError);
    {
        File f = File::create(dir + "/f.h5");
        EXPECT_THROW(f.open_dataset("nothing"), FormatError);
        EXPECT_THROW(f.read_int_attribute("nothing"), FormatError);
    }
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

/// The message of the FormatError `f` throws ("" if none).
template <class F>
std::string refusal(F&& f) {
    try {
        f();
    } catch (const FormatError& e) {
        return e.what();
    }
    return "";
}

// The trial read in a child process: a read that ends by itself (or by an exception, which the
// caller's own read reports) passes; a crash, a spin, or an exit that is not the child's own (a
// sanitizer's report exits with status 1) is refused naming the file.
TEST(Hdf5TrialRead, RefusesWhatEndsTheChildAndPassesTheRest) {
    const std::string path = test_dir() + "/any.h5";
    EXPECT_EQ(refusal([&] { hdf5::trial_read(path, [] {}); }), "");
    EXPECT_EQ(refusal([&] { hdf5::trial_read(path, [] { throw FormatError("bad"); }); }), "");
    EXPECT_EQ(refusal([&] { hdf5::trial_read(path, [] { throw 1; }); }), "");
    EXPECT_THAT(refusal([&] { hdf5::trial_read(path, [] { std::raise(SIGSEGV); }); }),
                HasSubstr(path + ": the file is damaged (reading it crashed the HDF5 library"));
    EXPECT_THAT(refusal([&] { hdf5::trial_read(path, [] { ::_exit(1); }); }),
                HasSubstr(path + ": the file is damaged (reading it failed inside a library: "
                                 "the trial read in a child process ended with status 1)"));
    // A spin (as libhdf5's in a damaged global heap) ends after 1 s of CPU time, not 600 s.
    EXPECT_THAT(refusal([&] {
                    hdf5::trial_read(path, [] {
                        for (volatile unsigned long i = 0;; i = i + 1) {}
                    });
                }),
                HasSubstr(path + ": the file is damaged (reading it used more than 1 s of CPU"));
}

/// A fuzz input kept in tests/fuzz/regressions/<harness>/.
std::string regression(const std::string& harness, const std::string& name) {
    return std::string(DBN_SOURCE_DIR) + "/tests/fuzz/regressions/" + harness + "/" + name;
}

// Found by fuzz_hdf5_data: chunks of [33554432, 3] bytes for an [8, 3] dataset of 56 stored
// (deflated) bytes made libhdf5 read past its own buffer (heap-buffer-overflow in
// H5VM_memcpyvv under H5Dread). The layout is now checked against the shape at open.
TEST(Hdf5Dataset, ChunksLargerThanTheStorageAllowsAreRefusedAtOpen) {
    const std::string path =
        regression("fuzz_hdf5_data", "compact-layout-read-overflow-in-libhdf5");
    const File f = File::open(path);
    EXPECT_THAT(refusal([&] { f.open_dataset("x"); }),
                HasSubstr(path + ": /x: chunks of shape [33554432, 3] (100663296 bytes each) for "
                                 "a shape [8, 3] of 1-byte elements (24 bytes), more than 1032 "
                                 "times the 56 compressed bytes stored: the file is damaged"));
    // The good control: chunks of a row dataset may be larger than its rows.
    const std::string good = test_dir() + "/rows.h5";
    {
        File g = File::create(good);
        Dataset ds = g.create_row_dataset<float>("x", {3}, 1024);
        const std::vector<float> rows(6, 1.0f);
        ds.append_rows(rows.data(), 2);
    }
    const File g = File::open(good);
    EXPECT_EQ(g.open_dataset("x").read<float>().size(), 6u);
}

// Found by fuzz_hdf5_data: a float type of 67108865 bytes per element declared 400 MB of six
// values in a 2 KB file, which H5Dread zeroed. Refused at open (check_declared_size).
TEST(Hdf5Dataset, DeclaredSizeBeyondTheFileIsRefusedAtOpen) {
    const std::string path = regression("fuzz_hdf5_data", "declared-shape-huge-read");
    const File f = File::open(path);
    EXPECT_THAT(refusal([&] { f.open_dataset("x"); }),
                HasSubstr(path + ": /x: shape [6] of 67108865-byte elements needs 402653190 "
                                 "bytes, more than the whole file"));
}

// HDF5 stamps object headers with times in seconds by default; the wrapper turns that off, so
// that the same content gives the same bytes (the same seed, the same file). The second file is
// written in another second, so that a stamp anywhere (root group, a group, an intermediate
// group, either kind of dataset) would show.
TEST(Hdf5File, SameContentGivesTheSameBytesInAnotherSecond) {
    const auto write = [](const std::string& path) {
        File f = File::create(path);
        f.write_string_attribute("format", "x");
        Group g = f.create_group("a/b");
        const std::vector<float> values{1.0f, 2.0f, 3.0f, 4.0f};
        g.write_dataset("w", values.data(), {2, 2});
        f.write_dataset("deep/er/v", values.data(), {4});
        Dataset rows = f.create_row_dataset<float>("rows", {2}, 8);
        rows.append_rows(values.data(), 2);
        f.write_strings("names", {"one", "two"});
        f.close();
    };
    const auto bytes = [](const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    const std::string first = test_dir() + "/stamp1.h5";
    const std::string second = test_dir() + "/stamp2.h5";
    write(first);
    ::usleep(1100 * 1000);
    write(second);
    const std::string a = bytes(first);
    ASSERT_GT(a.size(), 0u);
    EXPECT_TRUE(a == bytes(second)) << "files of the same content differ in bytes";
}

TEST(Hdf5File, MoveKeepsTheHandle) {
    const std::string path = test_dir() + "/move.h5";
    File a = File::create(path);
    File b = std::move(a);
    b.write_int_attribute("x", 3);
    File c = File::create(test_dir() + "/other.h5");
    c = std::move(b);
    EXPECT_EQ(c.read_int_attribute("x"), 3);
    c.close();
    c.close();  // a second close does nothing
}

}  // namespace
}  // namespace dbn
