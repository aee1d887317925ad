/// The arithmetic of the engine's GEMMs (docs/engine.md, "Reduced precision").
public enum Precision: String, Sendable, CaseIterable {
    /// bf16 where the CPU has AVX512-BF16, else fp32, silently: the command line's and pipelines' default (its Dice
    /// is within fp32's seed-to-seed noise on the development tasks, and it is faster; docs/engine.md).
    case auto
    /// Every GEMM in fp32 (OpenBLAS sgemm).
    case fp32
    /// The GEMMs where the bf16 kernel measured faster (`BF16Rule`) take bf16 operands (weights rounded once at
    /// load time, activations per call, round to nearest even) and sum in fp32 on AVX512-BF16. Transforms, pooling,
    /// upsampling, bias and activations stay fp32. A CPU without AVX512-BF16 runs fp32 (`UniverSegModel.precision`
    /// says which one runs).
    case bf16

    /// What runs on a CPU that has (or lacks) AVX512-BF16: `.bf16` or `.fp32`, never `.auto`.
    public func resolved(bf16Supported: Bool) -> Precision {
        self != .fp32 && bf16Supported ? .bf16 : .fp32
    }
}

/// Which GEMMs the bf16 kernel takes, from single-thread timings of both kernels on the engine's shapes
/// (docs/engine.md): Winograd's alpha² GEMMs (128 tile rows x channels x features) always measured faster in bf16;
/// im2col GEMMs only from `minimumIm2colDepth` (the first layer's depths 9 to 27 are as fast or faster in sgemm).
enum BF16Rule {
    static let minimumIm2colDepth = 64
}
