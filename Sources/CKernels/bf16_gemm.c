// A single-threaded GEMM on AVX512-BF16 (vdpbf16ps): fp32 A converted to bf16 on the fly, bf16 B packed once, fp32
// accumulation. Debian's OpenBLAS 0.3.21 has no cblas_sbgemm. The AVX-512 code is compiled per function (target
// attribute) so the package builds for any x86-64 or other CPU; callers check ucb_bf16_supported() first.
#include "bf16_gemm.h"

#include <string.h>

static int pairs_of(int k) { return (k + 1) / 2; }
static int padded_columns(int n) { return (n + 15) / 16 * 16; }

int64_t ucb_bf16_packed_count(int k, int n) { return (int64_t)pairs_of(k) * padded_columns(n) * 2; }

int64_t ucb_bf16_scratch_count(int k) { return (int64_t)UCB_BF16_ROWS * pairs_of(k) * 2; }

/// fp32 -> bf16, round to nearest even (weights are finite; NaN is kept a NaN).
static uint16_t bf16_from_float(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40u);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

void ucb_bf16_pack_b(const float *b, int k, int n, uint16_t *packed) {
    int np = padded_columns(n);
    for (int p = 0; p < pairs_of(k); p++) {
        uint16_t *row = packed + (int64_t)p * np * 2;
        for (int j = 0; j < np; j++) {
            float lo = j < n ? b[(int64_t)(2 * p) * n + j] : 0;
            float hi = j < n && 2 * p + 1 < k ? b[(int64_t)(2 * p + 1) * n + j] : 0;
            row[2 * j] = bf16_from_float(lo);
            row[2 * j + 1] = bf16_from_float(hi);
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define UCB_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

int ucb_bf16_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") ? 1 : 0;
}

/// Converts `rows` rows of A (k floats each) to bf16 rows of 2 * pairs values (odd k: a zero appended).
UCB_TARGET static void convert_rows(const float *a, int rows, int k, uint16_t *dst) {
    int kp = pairs_of(k) * 2;
    for (int r = 0; r < rows; r++) {
        const float *src = a + (int64_t)r * k;
        uint16_t *out = dst + (int64_t)r * kp;
        int i = 0;
        for (; i + 32 <= k; i += 32) {
            __m512 lo = _mm512_loadu_ps(src + i), hi = _mm512_loadu_ps(src + i + 16);
            _mm512_storeu_si512((void *)(out + i), (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
        if (i < kp) {
            int left = k - i;  // 0..31 floats, written as kp - i bf16 (the odd pad is a converted zero)
            __mmask16 m0 = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
            __mmask16 m1 = left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
            __m512 lo = _mm512_maskz_loadu_ps(m0, src + i), hi = _mm512_maskz_loadu_ps(m1, src + i + 16);
            __m512i v = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
            _mm512_mask_storeu_epi16(out + i, (__mmask32)((1ull << (kp - i)) - 1), v);
        }
    }
}

/// C[rows x 16*nv] (columns beyond `last` masked in the last vector) = A rows (bf16 pairs, stride kp) x B panel
/// (pairs x np*2 bf16, starting at this panel's column). Up to 6 rows x 4 vectors: 24 accumulators in registers.
#define UCB_KERNEL(NAME, NV)                                                                                      \
UCB_TARGET static void NAME(int rows, int pairs, const uint16_t *a, int kp, const uint16_t *b, int np,        \
                            float *c, int ldc, __mmask16 last) {                                              \
    __m512 acc[UCB_BF16_ROWS][NV];                                                                            \
    for (int r = 0; r < UCB_BF16_ROWS; r++)                                                                   \
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();                                         \
    const int32_t *a32 = (const int32_t *)a;                                                                  \
    int kp32 = kp / 2;                                                                                        \
    if (rows == UCB_BF16_ROWS) {                                                                              \
        for (int p = 0; p < pairs; p++) {                                                                     \
            const uint16_t *bp = b + (int64_t)p * np * 2;                                                     \
            __m512bh bv[NV];                                                                                  \
            for (int v = 0; v < NV; v++) bv[v] = (__m512bh)_mm512_loadu_si512((const void *)(bp + 32 * v));   \
            for (int r = 0; r < UCB_BF16_ROWS; r++) {                                                         \
                __m512bh av = (__m512bh)_mm512_set1_epi32(a32[r * kp32 + p]);                                 \
                for (int v = 0; v < NV; v++) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);              \
            }                                                                                                 \
        }                                                                                                     \
    } else {                                                                                                  \
        for (int p = 0; p < pairs; p++) {                                                                     \
            const uint16_t *bp = b + (int64_t)p * np * 2;                                                     \
            __m512bh bv[NV];                                                                                  \
            for (int v = 0; v < NV; v++) bv[v] = (__m512bh)_mm512_loadu_si512((const void *)(bp + 32 * v));   \
            for (int r = 0; r < rows; r++) {                                                                  \
                __m512bh av = (__m512bh)_mm512_set1_epi32(a32[r * kp32 + p]);                                 \
                for (int v = 0; v < NV; v++) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);              \
            }                                                                                                 \
        }                                                                                                     \
    }                                                                                                         \
    for (int r = 0; r < rows; r++) {                                                                          \
        for (int v = 0; v < NV - 1; v++) _mm512_storeu_ps(c + (int64_t)r * ldc + 16 * v, acc[r][v]);          \
        _mm512_mask_storeu_ps(c + (int64_t)r * ldc + 16 * (NV - 1), last, acc[r][NV - 1]);                   \
    }                                                                                                         \
}

UCB_KERNEL(kernel_1, 1)
UCB_KERNEL(kernel_2, 2)
UCB_KERNEL(kernel_3, 3)
UCB_KERNEL(kernel_4, 4)

UCB_TARGET void ucb_bf16_gemm(int m, int n, int k, const float *a, const uint16_t *packed_b, float *c,
                              uint16_t *scratch) {
    int pairs = pairs_of(k), kp = pairs * 2, np = padded_columns(n);
    for (int r0 = 0; r0 < m; r0 += UCB_BF16_ROWS) {
        int rows = m - r0 < UCB_BF16_ROWS ? m - r0 : UCB_BF16_ROWS;
        convert_rows(a + (int64_t)r0 * k, rows, k, scratch);
        for (int j0 = 0; j0 < n; j0 += 64) {
            int width = n - j0 < 64 ? n - j0 : 64;
            int nv = (width + 15) / 16, tail = width - 16 * (nv - 1);
            __mmask16 last = (__mmask16)((1u << tail) - 1);
            const uint16_t *b = packed_b + (int64_t)j0 * 2;
            float *out = c + (int64_t)r0 * n + j0;
            switch (nv) {
            case 1: kernel_1(rows, pairs, scratch, kp, b, np, out, n, last); break;
            case 2: kernel_2(rows, pairs, scratch, kp, b, np, out, n, last); break;
            case 3: kernel_3(rows, pairs, scratch, kp, b, np, out, n, last); break;
            default: kernel_4(rows, pairs, scratch, kp, b, np, out, n, last); break;
            }
        }
    }
}

#else

int ucb_bf16_supported(void) { return 0; }

void ucb_bf16_gemm(int m, int n, int k, const float *a, const uint16_t *packed_b, float *c, uint16_t *scratch) {
    (void)m; (void)n; (void)k; (void)a; (void)packed_b; (void)c; (void)scratch;
    __builtin_trap();  // callers check ucb_bf16_supported() first
}

#endif
