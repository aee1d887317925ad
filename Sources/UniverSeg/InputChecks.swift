/// Checks on caller-supplied images, shared by support preparation and prediction. Every failure is one line.
enum InputChecks {
    /// Largest side accepted: 16x the native 128 (a guard against giant allocations from a wrong size).
    static let maxSide = 2048
    /// Largest support set accepted.
    static let maxSupport = 1024
    /// Intensities and labels must lie in [0, 1]; this much slack absorbs resampling round-off.
    static let rangeSlack: Float = 1e-3

    static func size(_ height: Int, _ width: Int, multiple: Int) throws {
        guard height > 0, width > 0, height <= maxSide, width <= maxSide else {
            throw UniverSegError("image size \(height)x\(width) is outside 1...\(maxSide) pixels per side")
        }
        guard height % multiple == 0, width % multiple == 0 else {
            throw UniverSegError("image size \(height)x\(width) is not divisible by \(multiple) "
                + "(the model pools \(multiple.trailingZeroBitCount) times); resample to e.g. 128x128")
        }
    }

    static func threads(_ threads: Int) throws {
        guard (1 ... 256).contains(threads) else { throw UniverSegError("thread count \(threads) is outside 1...256") }
    }

    /// `what` names the image in messages, e.g. "support image 3".
    static func image(_ values: [Float], _ what: String, height: Int, width: Int) throws {
        guard values.count == height * width else {
            throw UniverSegError("\(what) has \(values.count) pixels, expected \(height)x\(width) = \(height * width)")
        }
        for (i, v) in values.enumerated() where !(v >= -rangeSlack && v <= 1 + rangeSlack) {
            let position = "(row \(i / width), column \(i % width))"
            if !v.isFinite { throw UniverSegError("\(what) has a non-finite value (\(v)) at \(position)") }
            throw UniverSegError("\(what) has value \(v) at \(position); the model expects values normalised to [0, 1]")
        }
    }
}
