internal import CKernels

/// The only file that calls the AVX-512 Winograd F(4x4) transforms (Sources/CKernels/winograd_transforms.c). They
/// compute what `F4x4` does in `Winograd`'s Swift transforms, bitwise, 16 channels per vector instead of 4 and
/// without copying each tile's patch first; the Swift transforms remain for other CPUs and for F(2x2).
enum WinogradAVX512 {
    /// Whether this CPU runs the C transforms (AVX-512F on x86-64), detected once at run time.
    static let isSupported: Bool = ucb_winograd_transforms_supported() != 0

    /// Same contract as `Winograd.inputTransform` for F(4x4). Requires `isSupported`.
    static func input4x4(_ inputs: [ConvInput], _ g: Geometry, tiles: Range<Int>, tilesY: Int, tilesX: Int,
                         into v: UnsafeMutablePointer<Float>, stride: Int) {
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: inputs.count) { data in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: inputs.count) { channels in
                for (k, input) in inputs.enumerated() {
                    data[k] = UnsafePointer(input.data.base)
                    channels[k] = Int32(input.channels)
                }
                ucb_winograd4_input(Int32(inputs.count), data.baseAddress, channels.baseAddress, Int32(g.height),
                                    Int32(g.width), Int32(tilesY), Int32(tilesX), Int32(tiles.lowerBound),
                                    Int32(tiles.upperBound), v, Int64(stride))
            }
        }
    }

    /// Same contract as `Winograd.outputTransform` for F(4x4). Requires `isSupported`.
    static func output4x4(_ mm: UnsafePointer<Float>, stride: Int, _ g: Geometry, tiles: Range<Int>, tilesY: Int,
                          tilesX: Int, features: Int, into out: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
                          addend: UnsafePointer<Float>?, leaky: Bool) {
        ucb_winograd4_output(mm, Int64(stride), Int32(g.height), Int32(g.width), Int32(tilesY), Int32(tilesX),
                             Int32(tiles.lowerBound), Int32(tiles.upperBound), Int32(features), bias, addend,
                             leaky ? 1 : 0, out)
    }
}
