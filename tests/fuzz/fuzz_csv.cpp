// libFuzzer harness: the CSV reader, as `dbn pretrain --data x.csv` reads a whole file
// (read_dataset, with the header detected; then with the last column as labels), as `dbn
// features` streams it (open_row_source, in chunks of a few rows), and as a labels file.

#include <cstddef>
#include <cstdint>

#include "dbn/data/dataset.hpp"
#include "dbn/data/row_source.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dbn;
    const fuzz::TempFile file("data.csv", data, size);
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
    if (whole != streamed)
        fuzz::violated("read_dataset and open_row_source disagree on a CSV file");
    if (whole && whole_rows != streamed_rows) fuzz::violated("CSV row counts differ");

    data::CsvOptions labelled;
    labelled.label_column = -1;
    fuzz::expect_documented_errors([&] {
        const data::Dataset d = data::read_dataset(file.path(), labelled);
        if (d.labels.size() != d.size()) fuzz::violated("a labelled CSV without a label per row");
    });
    fuzz::expect_documented_errors([&] { (void)data::read_labels(file.path(), labelled); });
    return 0;
}
