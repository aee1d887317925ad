/// Precomputed 1D interpolation weights: output sample `o` is `Σ weights[offsets[o] + t] * input[starts[o] + t]`
/// for `t` in `0..<counts[o]`. A 2D resampling applies one table along columns and one along rows (separable),
/// so no weights are computed per pixel.
struct ResamplingTaps {
    var starts: [Int] = []
    var counts: [Int] = []
    var offsets: [Int] = []
    var weights: [Float] = []

    var outputCount: Int { starts.count }

    private mutating func append(start: Int, _ w: [Double]) {
        starts.append(start)
        counts.append(w.count)
        offsets.append(weights.count)
        weights.append(contentsOf: w.map { Float($0) })
    }

    /// Linear interpolation with anti-aliasing: a triangle filter of radius max(1, `inputPerOutput`) input samples,
    /// so it is plain bilinear when enlarging and averages over the footprint when shrinking (PIL's antialiased
    /// BILINEAR). Weights are renormalised where the filter leaves the input (edge samples are extended).
    ///
    /// - Parameters:
    ///   - positions: the input coordinate (sample centres at 0, 1, ..., `inputCount` − 1) of each output sample.
    ///   - valid: outputs whose position lies outside this range get no taps (value 0: padding).
    static func triangle(positions: [Double], inputCount: Int, inputPerOutput: Double,
                         valid: ClosedRange<Double>? = nil) -> ResamplingTaps {
        var taps = ResamplingTaps()
        let radius = max(1, inputPerOutput)
        for t in positions {
            if let valid, !valid.contains(t) { taps.append(start: 0, []); continue }
            let lo = max(0, Int((t - radius).rounded(.down)) + 1), hi = min(inputCount - 1, Int((t + radius).rounded(.up)) - 1)
            var w = [Double]()
            if lo <= hi {
                for i in lo...hi { w.append(max(0, 1 - abs(Double(i) - t) / radius)) }
            }
            let sum = w.reduce(0, +)
            if sum > 0 {
                taps.append(start: lo, w.map { $0 / sum })
            } else {
                // Only when the position is beyond the extended edge: use the nearest sample.
                taps.append(start: min(max(Int(t.rounded()), 0), inputCount - 1), [1])
            }
        }
        return taps
    }

    /// Area fractions: output sample `o` covers [t − h, t + h] in input coordinates (input sample `i` covers
    /// [i − ½, i + ½]); each weight is the overlap divided by 2h. Outside the input counts as 0 (no renormalising),
    /// so a mask's output is exactly the fraction of the output pixel covered by the mask.
    static func box(positions: [Double], inputCount: Int, halfWidth h: Double) -> ResamplingTaps {
        var taps = ResamplingTaps()
        for t in positions {
            let a = t - h, b = t + h
            let lo = max(0, Int((a + 0.5).rounded(.down))), hi = min(inputCount - 1, Int((b + 0.5).rounded(.up)) - 1)
            var w = [Double]()
            if lo <= hi {
                for i in lo...hi { w.append(max(0, min(b, Double(i) + 0.5) - max(a, Double(i) - 0.5)) / (2 * h)) }
            }
            taps.append(start: lo <= hi ? lo : 0, w)
        }
        return taps
    }
}

/// Resamples a `width` × `height` image (row-major, x fastest) to `columns.outputCount` × `rows.outputCount`.
/// `scratch` is reused between calls to avoid allocations.
/// - Complexity: O(height · outWidth · taps + outHeight · outWidth · taps).
func resample(_ input: UnsafeBufferPointer<Float>, width: Int, height: Int, columns: ResamplingTaps, rows: ResamplingTaps,
              scratch: inout [Float], into output: inout [Float]) {
    let outWidth = columns.outputCount, outHeight = rows.outputCount
    precondition(input.count >= width * height)
    if scratch.count < height * outWidth { scratch = [Float](repeating: 0, count: height * outWidth) }
    if output.count != outWidth * outHeight { output = [Float](repeating: 0, count: outWidth * outHeight) }
    // Only the input rows some output row reads need the horizontal pass.
    var firstRow = height, lastRow = -1
    for o in 0..<outHeight where rows.counts[o] > 0 {
        firstRow = min(firstRow, rows.starts[o]); lastRow = max(lastRow, rows.starts[o] + rows.counts[o] - 1)
    }
    columns.weights.withUnsafeBufferPointer { cw in
        scratch.withUnsafeMutableBufferPointer { tmp in
            if firstRow <= lastRow {
                for r in firstRow...lastRow {
                    let row = r * width, outRow = r * outWidth
                    for x in 0..<outWidth {
                        let start = row + columns.starts[x], off = columns.offsets[x]
                        var sum: Float = 0
                        for t in 0..<columns.counts[x] { sum += cw[off + t] * input[start + t] }
                        tmp[outRow + x] = sum
                    }
                }
            }
            rows.weights.withUnsafeBufferPointer { rw in
                output.withUnsafeMutableBufferPointer { out in
                    for y in 0..<outHeight {
                        let outRow = y * outWidth, off = rows.offsets[y], start = rows.starts[y]
                        for x in 0..<outWidth { out[outRow + x] = 0 }
                        for t in 0..<rows.counts[y] {
                            let w = rw[off + t], src = (start + t) * outWidth
                            for x in 0..<outWidth { out[outRow + x] += w * tmp[src + x] }
                        }
                    }
                }
            }
        }
    }
}
