// libFuzzer harness: the HDF5 data reader, as `dbn pretrain --data file.h5:/x` reads a whole
// dataset (read_dataset; the `labels` dataset beside it comes along), as `dbn features` streams
// it (open_row_source, hyperslabs of a few rows), and `file.h5:/labels` as a labels spec. The
// reader takes a path, so the input is written to a file first (in /dev/shm).

#include <cstddef>
#include <cstdint>

#include "dbn/data/dataset.hpp"
#include "dbn/data/row_source.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dbn;
    const fuzz::TempFile file("data.h5", data, size);
    const std::string spec = file.path() + ":/x";
    std::size_t whole_rows = 0;
    const bool whole = fuzz::expect_documented_errors([&] {
        const data::Dataset d = data::read_dataset(spec);
        whole_rows = d.size();
    });
    std::size_t streamed_rows = 0;
    const bool streamed = fuzz::expect_documented_errors([&] {
        auto source = data::open_row_source(spec);
        data::Dataset chunk;
        while (const std::size_t n = source->read(3, chunk)) streamed_rows += n;
    });
    if (whole != streamed) fuzz::violated("read_dataset and open_row_source disagree on HDF5");
    if (whole && whole_rows != streamed_rows) fuzz::violated("HDF5 row counts differ");
    fuzz::expect_documented_errors([&] { (void)data::read_labels(file.path() + ":/labels"); });
    return 0;
}
