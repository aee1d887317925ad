import Diagnostics

/// A volume cut into UniverSeg inputs: `slices[k]` is slice k as `size * size` floats in [0, 1] (row-major, see
/// `SliceMapping`), for every slice along the slicing axis in increasing R/A/S order.
public struct ModelSlices: Sendable {
    public var slices: [[Float]]
    public var mapping: SliceMapping
    /// The intensities mapped to 0 and 1.
    public var window: IntensityWindow
    /// Slices whose voxels all normalise to one value (zero padding, a slab outside the field of view): nothing
    /// there can be segmented, and the network, given a blank image, still draws shapes.
    public var blank: [Bool]

    /// Relative position (0...1) of each slice's centre along the slicing axis.
    public var relativePositions: [Double] { mapping.relativePositions }
}

/// Errors of the slicing code that are about the data, not the program.
public enum SlicingError: UserError, Equatable {
    /// A label map is not on the grid of the image it should annotate.
    case gridMismatch(labels: String, image: String)

    /// The caller knows which files these are.
    public var file: String? { nil }

    public var problem: String {
        switch self {
        case .gridMismatch(let labels, let image):
            return "label map grid (\(labels)) does not match the image grid (\(image))"
        }
    }

    public var hint: String? { "a label map must share its image's dimensions and affine; resample it onto the image" }
}

/// Cuts `image` into model slices: canonical frame, slicing axis, intensity normalisation, then each slice's
/// field of view fitted into the square with antialiased bilinear resampling (padding 0).
/// - Complexity: O(voxels) for the window plus O(slices · (in-plane voxels + size²) · taps); no per-voxel allocation.
public func modelSlices(of image: Volume<Float>, options: SlicingOptions = SlicingOptions()) -> ModelSlices {
    let mapping = SliceMapping(shape: image.shape, affine: image.affine, source: image.source, options: options)
    return modelSlices(of: image, mapping: mapping, normalization: options.normalization)
}

/// `modelSlices(of:options:)` with the mapping already made (it must come from `image`'s grid).
public func modelSlices(of image: Volume<Float>, mapping: SliceMapping, normalization: IntensityNormalization) -> ModelSlices {
    precondition(mapping.matchesGrid(image), "the mapping must come from the image's grid")
    let window = normalization.window(for: image.voxels)
    let (slices, blank) = cutSlices(image.voxels, mapping: mapping, columns: mapping.imageTaps(axis: mapping.columnAxis),
                                    rows: mapping.imageTaps(axis: mapping.rowAxis)) { window.normalize($0) }
    return ModelSlices(slices: slices, mapping: mapping, window: window, blank: blank)
}

/// How label masks are resampled onto the model grid. Both start from the exact fraction of each model pixel's
/// area that the mask covers (separable box-filter overlaps, outside the volume counting as background).
public enum MaskResampling: Sendable, Equatable {
    /// 1 where at least half of the pixel is covered, else 0 (UniverSeg's training labels are binary).
    case binary
    /// The covered fraction itself, in [0, 1]. Keeps sub-pixel boundaries: on pyradiomics lung1 (0.57 mm voxels,
    /// 2.28 mm model pixels) a mask → model → native round trip gives Dice 0.958 with fractions, 0.896 binary.
    case areaFraction
}

/// Model masks of `labels` (the voxels whose label is in `values`), on the slices of `like`.
/// - Throws: `SlicingError.gridMismatch` when `labels` is not on the image's grid.
public func modelMasks(of labels: Volume<Int32>, values: Set<Int32>, like slices: ModelSlices,
                       resampling: MaskResampling = .binary) throws -> [[Float]] {
    try modelMasks(of: labels, values: values, mapping: slices.mapping, resampling: resampling)
}

/// See `modelMasks(of:values:like:resampling:)`.
public func modelMasks(of labels: Volume<Int32>, values: Set<Int32>, mapping: SliceMapping,
                       resampling: MaskResampling = .binary) throws -> [[Float]] {
    guard mapping.matchesGrid(labels) else {
        throw SlicingError.gridMismatch(labels: "\(labels.shape) \(labels.orientation)",
                                        image: "\(mapping.nativeShape) \(mapping.nativeAffine.orientation)")
    }
    let sorted = values.sorted()
    let mask = labels.voxels.map { sorted.contains($0) ? Float(1) : 0 }
    let (fractions, _) = cutSlices(mask, mapping: mapping, columns: mapping.maskTaps(axis: mapping.columnAxis),
                              rows: mapping.maskTaps(axis: mapping.rowAxis)) { $0 }
    switch resampling {
    case .areaFraction: return fractions.map { slice in slice.map { min(1, max(0, $0)) } }
    case .binary: return fractions.map { slice in slice.map { $0 >= 0.5 ? 1 : 0 } }
    }
}

/// Per-slice model outputs (probabilities, `size * size` each, one per slice of `mapping`) back on the native
/// grid: each native voxel samples its slice's probability map bilinearly (antialiased when shrinking) at its
/// own position. Same shape, affine and `source` as the volume the mapping came from.
public func nativeProbabilities(_ perSlice: [[Float]], mapping: SliceMapping) -> Volume<Float> {
    precondition(perSlice.count == mapping.sliceCount, "one probability map per slice (\(mapping.sliceCount))")
    precondition(perSlice.allSatisfy { $0.count == mapping.size * mapping.size }, "each map has size * size values")
    let columns = mapping.inverseTaps(axis: mapping.columnAxis), rows = mapping.inverseTaps(axis: mapping.rowAxis)
    let frame = mapping.frame
    let (nu, nv) = (mapping.columnCount, mapping.rowCount)
    let (su, sv, sk) = (frame.strides[mapping.columnAxis], frame.strides[mapping.rowAxis], frame.strides[mapping.sliceAxis])
    var voxels = [Float](repeating: 0, count: mapping.nativeShape.reduce(1, *))
    var plane = [Float](repeating: 0, count: nu * nv), scratch = [Float]()
    for (k, probabilities) in perSlice.enumerated() {
        probabilities.withUnsafeBufferPointer { input in
            resample(input, width: mapping.size, height: mapping.size, columns: columns, rows: rows,
                     scratch: &scratch, into: &plane)
        }
        let base = frame.origin + k * sk
        voxels.withUnsafeMutableBufferPointer { out in
            plane.withUnsafeBufferPointer { p in
                for v in 0..<nv {
                    var n = base + v * sv
                    for u in 0..<nu { out[n] = p[v * nu + u]; n += su }
                }
            }
        }
    }
    return Volume(shape: mapping.nativeShape, affine: mapping.nativeAffine, voxels: voxels, source: mapping.source)
}

/// `nativeProbabilities` thresholded: `label` where the probability is ≥ `threshold`, else 0, on exactly the
/// source grid (same shape, affine and `source`), ready for `NiftiWriter.write`.
public func nativeLabels(_ perSlice: [[Float]], mapping: SliceMapping, threshold: Float = 0.5, label: Int32 = 1) -> Volume<Int32> {
    nativeProbabilities(perSlice, mapping: mapping).thresholded(at: threshold, label: label)
}

extension Volume where Voxel == Float {
    /// `label` where the value is ≥ `threshold`, else 0; same grid and source.
    public func thresholded(at threshold: Float = 0.5, label: Int32 = 1) -> Volume<Int32> {
        withVoxels(voxels.map { $0 >= threshold ? label : 0 })
    }
}

/// Extracts each canonical slice of `voxels` (mapped through `transform`) and resamples it with the given taps;
/// `constant[k]` tells whether slice k held one value throughout (checked before resampling, which adds padding).
private func cutSlices(_ voxels: [Float], mapping: SliceMapping, columns: ResamplingTaps, rows: ResamplingTaps,
                       transform: (Float) -> Float) -> (slices: [[Float]], constant: [Bool]) {
    let frame = mapping.frame
    let (nu, nv) = (mapping.columnCount, mapping.rowCount)
    let (su, sv, sk) = (frame.strides[mapping.columnAxis], frame.strides[mapping.rowAxis], frame.strides[mapping.sliceAxis])
    var plane = [Float](repeating: 0, count: nu * nv), scratch = [Float]()
    var slices = [[Float]](), constant = [Bool]()
    slices.reserveCapacity(mapping.sliceCount)
    voxels.withUnsafeBufferPointer { src in
        for k in 0..<mapping.sliceCount {
            let base = frame.origin + k * sk
            var low = Float.infinity, high = -Float.infinity
            plane.withUnsafeMutableBufferPointer { p in
                for v in 0..<nv {
                    var n = base + v * sv
                    for u in 0..<nu {
                        let x = transform(src[n])
                        p[v * nu + u] = x
                        low = min(low, x)
                        high = max(high, x)
                        n += su
                    }
                }
            }
            var slice = [Float]()
            plane.withUnsafeBufferPointer { p in
                resample(p, width: nu, height: nv, columns: columns, rows: rows, scratch: &scratch, into: &slice)
            }
            slices.append(slice)
            constant.append(low == high)
        }
    }
    return (slices, constant)
}
