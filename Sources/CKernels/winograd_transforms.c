// Winograd F(4x4, 3x3) input and output transforms on AVX-512F: 16 channels (features) per vector, the same
// coefficients and order of operations as the SIMD4 Swift kernels in Engine/Winograd.swift (F4x4), which stay the
// fallback, so both give bitwise equal results (separate multiplies and adds, no FMA). The input transform reads
// the input tensors directly instead of gathering each tile's patch into a buffer first. The AVX-512 code is
// compiled per function (target attribute) so the package builds for any CPU; callers check
// ucb_winograd_transforms_supported() first.
#include "winograd_transforms.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define UCB_TARGET __attribute__((target("avx512f")))

enum { ALPHA = 6, M = 4 };

int ucb_winograd_transforms_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

static __mmask16 lanes_mask(int left) { return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1); }

/// Bᵀ applied in place to p[0], p[s], ..., p[5s] (F4x4.input).
UCB_TARGET static inline void input_1d(__m512 *p, int s) {
    const __m512 four = _mm512_set1_ps(4), five = _mm512_set1_ps(5), two = _mm512_set1_ps(2);
    __m512 d0 = p[0], d1 = p[s], d2 = p[2 * s], d3 = p[3 * s], d4 = p[4 * s], d5 = p[5 * s];
    __m512 a = _mm512_sub_ps(d4, _mm512_mul_ps(four, d2)), b = _mm512_sub_ps(d3, _mm512_mul_ps(four, d1));
    __m512 c = _mm512_sub_ps(d4, d2), e = _mm512_mul_ps(two, _mm512_sub_ps(d3, d1));
    p[0] = _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(four, d0), _mm512_mul_ps(five, d2)), d4);
    p[s] = _mm512_add_ps(a, b);
    p[2 * s] = _mm512_sub_ps(a, b);
    p[3 * s] = _mm512_add_ps(c, e);
    p[4 * s] = _mm512_sub_ps(c, e);
    p[5 * s] = _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(four, d1), _mm512_mul_ps(five, d3)), d5);
}

/// Aᵀ applied in place to p[0], p[s], ..., p[5s], results in the first four slots (F4x4.output).
UCB_TARGET static inline void output_1d(__m512 *p, int s) {
    const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), eight = _mm512_set1_ps(8);
    __m512 m0 = p[0], m1 = p[s], m2 = p[2 * s], m3 = p[3 * s], m4 = p[4 * s], m5 = p[5 * s];
    __m512 sum12 = _mm512_add_ps(m1, m2), diff12 = _mm512_sub_ps(m1, m2);
    __m512 sum34 = _mm512_add_ps(m3, m4), diff34 = _mm512_sub_ps(m3, m4);
    p[0] = _mm512_add_ps(_mm512_add_ps(m0, sum12), sum34);
    p[s] = _mm512_add_ps(diff12, _mm512_mul_ps(two, diff34));
    p[2 * s] = _mm512_add_ps(sum12, _mm512_mul_ps(four, sum34));
    p[3 * s] = _mm512_add_ps(_mm512_add_ps(diff12, _mm512_mul_ps(eight, diff34)), m5);
}

/// One tile's 16 (or `mask`) channels: the patch's pixel (i, j) is at src + origin + i * row + j * pixel, read only
/// where row_in[i] and col_in[j] (zeros elsewhere: outside the image); transforms the 6x6 patch and stores the 36
/// vectors `stride` floats apart.
UCB_TARGET static inline void input_tile(const float *src, int64_t origin, int64_t row, int64_t pixel,
                                         const int *row_in, const int *col_in, __mmask16 mask, float *dst,
                                         int64_t stride) {
    __m512 x[ALPHA * ALPHA];
    const int inside = row_in[0] && row_in[ALPHA - 1] && col_in[0] && col_in[ALPHA - 1];
    for (int i = 0; i < ALPHA; i++) {
        for (int j = 0; j < ALPHA; j++) {
            const float *p = src + (origin + i * row + j * pixel);
            x[i * ALPHA + j] = inside || (row_in[i] && col_in[j]) ? _mm512_maskz_loadu_ps(mask, p) : _mm512_setzero_ps();
        }
        input_1d(x + i * ALPHA, 1);
    }
    for (int j = 0; j < ALPHA; j++) input_1d(x + j, ALPHA);
    for (int xi = 0; xi < ALPHA * ALPHA; xi++) _mm512_mask_storeu_ps(dst + xi * stride, mask, x[xi]);
}

/// Asks for the four columns that the next tile to the right reads and this one does not (patch columns 6 to 9):
/// the inputs are megabytes, so these come from L3 or memory (measured: ~5 % less CPU per forward).
static inline void prefetch_next_tile(const float *src, int64_t origin, int64_t row, int64_t pixel, const int *row_in,
                                      int x0, int width) {
    for (int i = 0; i < ALPHA; i++) {
        if (!row_in[i]) continue;
        for (int j = ALPHA; j < ALPHA + M; j++) {
            if (x0 + j < 0 || x0 + j >= width) continue;
            const float *p = src + (origin + i * row + j * pixel);
            for (int64_t c = 0; c < pixel; c += 16) _mm_prefetch((const char *)(p + c), _MM_HINT_T0);
        }
    }
}

UCB_TARGET void ucb_winograd4_input(int inputs, const float *const *data, const int *channels, int height, int width,
                                    int tiles_y, int tiles_x, int first_tile, int end_tile, float *v, int64_t stride) {
    int total = 0;
    for (int k = 0; k < inputs; k++) total += channels[k];
    const int per_image = tiles_y * tiles_x;
    for (int tile = first_tile; tile < end_tile; tile++) {
        const int n = tile / per_image, rest = tile - n * per_image;
        const int y0 = (rest / tiles_x) * M - 1, x0 = (rest % tiles_x) * M - 1;
        int row_in[ALPHA], col_in[ALPHA];
        for (int i = 0; i < ALPHA; i++) {
            row_in[i] = y0 + i >= 0 && y0 + i < height;
            col_in[i] = x0 + i >= 0 && x0 + i < width;
        }
        float *dst = v + (int64_t)(tile - first_tile) * total;
        for (int k = 0; k < inputs; k++) {
            const int ch = channels[k];
            // Offset of the patch's pixel (0, 0), which may lie outside the image (then it is never read).
            const int64_t origin = (((int64_t)n * height + y0) * width + x0) * ch;
            prefetch_next_tile(data[k], origin, (int64_t)width * ch, ch, row_in, x0, width);
            for (int c = 0; c < ch; c += 16) {
                input_tile(data[k] + c, origin, (int64_t)width * ch, ch, row_in, col_in, lanes_mask(ch - c), dst + c,
                           stride);
            }
            dst += ch;
        }
    }
}

UCB_TARGET void ucb_winograd4_output(const float *m, int64_t stride, int height, int width, int tiles_y, int tiles_x,
                                     int first_tile, int end_tile, int features, const float *bias,
                                     const float *addend, int leaky, float *out) {
    const int per_image = tiles_y * tiles_x;
    const __m512 slope = _mm512_set1_ps(0.01f), zero = _mm512_setzero_ps();
    for (int tile = first_tile; tile < end_tile; tile++) {
        const int n = tile / per_image, rest = tile - n * per_image;
        const int y0 = (rest / tiles_x) * M, x0 = (rest % tiles_x) * M;
        const int rows = height - y0 < M ? height - y0 : M, cols = width - x0 < M ? width - x0 : M;
        const float *src = m + (int64_t)(tile - first_tile) * features;
        for (int f = 0; f < features; f += 16) {
            const __mmask16 mask = lanes_mask(features - f);
            // Columns first, then rows (as the Swift kernel), one column at a time so that the 24 results stay in
            // registers: x[i * ALPHA + j] = (Aᵀ M A)[i][j] for i < M.
            __m512 x[M * ALPHA];
            for (int j = 0; j < ALPHA; j++) {
                __m512 column[ALPHA];
                for (int i = 0; i < ALPHA; i++) column[i] = _mm512_maskz_loadu_ps(mask, src + (i * ALPHA + j) * stride + f);
                output_1d(column, 1);
                for (int i = 0; i < M; i++) x[i * ALPHA + j] = column[i];
            }
            for (int i = 0; i < M; i++) output_1d(x + i * ALPHA, 1);
            const __m512 b = bias ? _mm512_maskz_loadu_ps(mask, bias + f) : zero;
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    const int64_t pixel = (int64_t)(y0 + i) * width + x0 + j;
                    __m512 value = _mm512_add_ps(x[i * ALPHA + j], b);
                    if (addend) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, addend + pixel * features + f));
                    if (leaky) {
                        __mmask16 negative = _mm512_cmp_ps_mask(value, zero, _CMP_LT_OQ);
                        value = _mm512_mask_mul_ps(value, negative, value, slope);
                    }
                    _mm512_mask_storeu_ps(out + ((int64_t)n * height * width + pixel) * features + f, mask, value);
                }
            }
        }
    }
}

#else

int ucb_winograd_transforms_supported(void) { return 0; }

void ucb_winograd4_input(int inputs, const float *const *data, const int *channels, int height, int width,
                         int tiles_y, int tiles_x, int first_tile, int end_tile, float *v, int64_t stride) {
    (void)inputs; (void)data; (void)channels; (void)height; (void)width; (void)tiles_y; (void)tiles_x;
    (void)first_tile; (void)end_tile; (void)v; (void)stride;
    __builtin_trap();  // callers check ucb_winograd_transforms_supported() first
}

void ucb_winograd4_output(const float *m, int64_t stride, int height, int width, int tiles_y, int tiles_x,
                          int first_tile, int end_tile, int features, const float *bias, const float *addend,
                          int leaky, float *out) {
    (void)m; (void)stride; (void)height; (void)width; (void)tiles_y; (void)tiles_x; (void)first_tile;
    (void)end_tile; (void)features; (void)bias; (void)addend; (void)leaky; (void)out;
    __builtin_trap();  // callers check ucb_winograd_transforms_supported() first
}

#endif
