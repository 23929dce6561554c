// The only file that includes OpenBLAS's cblas.h: it clashes with xtensor-blas's CBLAS enums.
#include "dbn/core/blas.hpp"

#include <cblas.h>

#include "dbn/core/error.hpp"

namespace dbn::blas {

void gemm(bool trans_a, bool trans_b, float alpha, ConstRows a, ConstRows b, float beta, Rows c) {
    const std::size_t m = trans_a ? a.cols : a.rows;
    const std::size_t k = trans_a ? a.rows : a.cols;
    const std::size_t kb = trans_b ? b.cols : b.rows;
    const std::size_t n = trans_b ? b.rows : b.cols;
    DBN_CHECK(k == kb, ShapeError,
              "blas::gemm: inner dimensions differ (" << k << " against " << kb << ")");
    DBN_CHECK(c.rows == m && c.cols == n, ShapeError,
              "blas::gemm: result is " << c.rows << "x" << c.cols << " (expected " << m << "x" << n
                                       << ")");
    if (m == 0 || n == 0) return;
    if (k == 0) {
        for (std::size_t i = 0; i < m * n; ++i) c.data[i] = beta == 0.0f ? 0.0f : beta * c.data[i];
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m),
                static_cast<blasint>(n), static_cast<blasint>(k), alpha, a.data,
                static_cast<blasint>(a.cols), b.data, static_cast<blasint>(b.cols), beta, c.data,
                static_cast<blasint>(c.cols));
}

void gemm_tn_rows(ConstRows a, std::size_t first, std::size_t count, ConstRows b, float beta,
                  Real* c) {
    DBN_CHECK(a.rows == b.rows && first + count <= a.cols, ShapeError,
              "gemm_tn_rows: rows " << first << ".." << first + count << " of a " << a.cols
                                    << "-column A^T times B, A has " << a.rows << " rows and B "
                                    << b.rows);
    if (count == 0 || b.cols == 0) return;
    if (a.rows == 0) {
        for (std::size_t i = 0; i < count * b.cols; ++i) c[i] = beta == 0.0f ? 0.0f : beta * c[i];
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<blasint>(count),
                static_cast<blasint>(b.cols), static_cast<blasint>(a.rows), 1.0f, a.data + first,
                static_cast<blasint>(a.cols), b.data, static_cast<blasint>(b.cols), beta, c,
                static_cast<blasint>(b.cols));
}

void dgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha,
           const double* a, const double* b, double beta, double* c) {
    if (m == 0 || n == 0) return;
    const std::size_t lda = trans_a ? m : k;
    const std::size_t ldb = trans_b ? k : n;
    cblas_dgemm(
        CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
        static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
        static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(n));
}

std::string core_name() {
    const char* name = openblas_get_corename();
    return name ? name : "unknown";
}

std::string config() {
    const char* c = openblas_get_config();
    return c ? c : "unknown";
}

int num_threads() { return openblas_get_num_threads(); }

void set_num_threads(int n) {
    DBN_CHECK(n >= 1, ConfigError,
              "blas::set_num_threads: thread count must be >= 1 (got " << n << ")");
    openblas_set_num_threads(n);
}

}  // namespace dbn::blas
