// libFuzzer harness: the NumPy .npy reader (any element type, byte order, rank and memory order),
// as `dbn pretrain
// --data` reads a whole file (read_dataset), as `dbn features` streams it (open_row_source, in
// chunks of a few rows), and as a labels file (read_labels).

#include <cstddef>
#include <cstdint>

#include "dbn/data/dataset.hpp"
#include "dbn/data/row_source.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dbn;
    const fuzz::TempFile file("x.npy", data, size);
    std::size_t whole_rows = 0;
    const bool whole = fuzz::expect_documented_errors([&] {
        const data::Dataset d = data::read_dataset(file.path());
        whole_rows = d.size();
    });
    std::size_t streamed_rows = 0;
    const bool streamed = fuzz::expect_documented_errors([&] {
        auto source = data::open_row_source(file.path());
        data::Dataset chunk;
        while (const std::size_t n = source->read(3, chunk)) streamed_rows += n;
    });
    // Both paths share one reader: they accept the same files and give the same rows.
    if (whole != streamed)
        fuzz::violated("read_dataset and open_row_source disagree on a .npy file");
    if (whole && whole_rows != streamed_rows) fuzz::violated(".npy row counts differ");
    fuzz::expect_documented_errors([&] { (void)data::read_labels(file.path()); });
    return 0;
}
