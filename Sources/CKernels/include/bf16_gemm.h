#ifndef UNIVERSEG_BF16_GEMM_H
#define UNIVERSEG_BF16_GEMM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Rows of A per microkernel step: the scratch passed to `ucb_bf16_gemm` holds this many converted rows.
#define UCB_BF16_ROWS 6

/// 1 when this CPU executes AVX512-BF16 (vdpbf16ps) and this build has the kernel (x86-64 only); else 0.
int ucb_bf16_supported(void);

/// bf16 values (uint16) `ucb_bf16_pack_b` writes for a k x n matrix: ceil(k/2) pairs x n rounded up to 16 columns x 2.
int64_t ucb_bf16_packed_count(int k, int n);

/// uint16 scratch `ucb_bf16_gemm` needs for k: UCB_BF16_ROWS rows of k rounded up to even.
int64_t ucb_bf16_scratch_count(int k);

/// Packs B (k x n, row-major fp32) as bf16 (round to nearest even) for `ucb_bf16_gemm`: for each pair of rows of B,
/// n columns (zero-padded to a multiple of 16) of interleaved (B[2p][j], B[2p+1][j]); an odd k is padded with a zero
/// row. Portable C: runs on any CPU.
void ucb_bf16_pack_b(const float *b, int k, int n, uint16_t *packed);

/// C (m x n, row-major fp32, ldc = n) = A (m x k, row-major fp32, lda = k) x B, with A rounded to bf16 (nearest
/// even) and B as packed by `ucb_bf16_pack_b`; products are summed in fp32 (vdpbf16ps). `scratch` holds
/// `ucb_bf16_scratch_count(k)` values. Requires `ucb_bf16_supported()`.
void ucb_bf16_gemm(int m, int n, int k, const float *a, const uint16_t *packed_b, float *c, uint16_t *scratch);

#ifdef __cplusplus
}
#endif

#endif
