#ifndef UNIVERSEG_WINOGRAD_TRANSFORMS_H
#define UNIVERSEG_WINOGRAD_TRANSFORMS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU executes AVX-512F and this build has the transforms (x86-64 only); else 0.
int ucb_winograd_transforms_supported(void);

/// Winograd F(4x4, 3x3) input transform of tiles [first_tile, end_tile): for each tile's 6x6 input patch d (rows
/// y0-1 .. y0+4, columns x0-1 .. x0+4; zeros outside the image), V[xi][local][c] = (Bᵀ d B)[xi] is written at
/// v[xi * stride + (tile - first_tile) * total_channels + c]. The inputs are `inputs` NHWC tensors (height x width,
/// `channels[k]` channels each) read as one tensor with their channels concatenated in order; tile t covers image
/// t / (tiles_y * tiles_x). Reads the tensors directly (no patch copy). Requires ucb_winograd_transforms_supported().
void ucb_winograd4_input(int inputs, const float *const *data, const int *channels, int height, int width,
                         int tiles_y, int tiles_x, int first_tile, int end_tile, float *v, int64_t stride);

/// Winograd F(4x4, 3x3) output transform: for tiles [first_tile, end_tile), Y = Aᵀ M A with M[xi][local][f] at
/// m[xi * stride + local * features + f], plus bias[f] (NULL: none), plus addend[(pixel * features) + f] (NULL:
/// none; pixel = y * width + x within the image, the same addend for every image), then LeakyReLU(0.01) when
/// `leaky`; written to out[((image * height + y) * width + x) * features + f], outputs beyond the image edge dropped.
/// Requires ucb_winograd_transforms_supported().
void ucb_winograd4_output(const float *m, int64_t stride, int height, int width, int tiles_y, int tiles_x,
                          int first_tile, int end_tile, int features, const float *bias, const float *addend,
                          int leaky, float *out);

#ifdef __cplusplus
}
#endif

#endif
