// The module's umbrella header: every kernel header, listed so that adding one changes the generated module map
// (an umbrella directory's clang module cache does not notice new headers in incremental builds).
#include "bf16_gemm.h"
#include "winograd_transforms.h"
