import Foundation
import XCTest
@testable import VolumeIO

final class SlicingTests: XCTestCase {
    // MARK: - Storage order does not matter

    func testStorageOrderGivesIdenticalModelSlices() throws {
        let ras = modelSlices(of: try NiftiReader.readImage(Fixtures.url("phantom_ras.nii.gz")))
        XCTAssertEqual(ras.slices.count, 24)
        XCTAssertEqual(ras.mapping.plane, .axial)
        for name in ["phantom_las.nii.gz", "phantom_lia.nii.gz"] {
            let other = modelSlices(of: try NiftiReader.readImage(Fixtures.url(name)))
            XCTAssertEqual(other.mapping.plane, .axial, name)
            XCTAssertEqual(other.window, ras.window, name)
            XCTAssertEqual(other.slices, ras.slices, name)
            XCTAssertEqual(other.relativePositions, ras.relativePositions, name)
            // The same model pixel is the same place in the world.
            for (k, r, c) in [(0, 0, 0), (5, 64, 30), (23, 127, 127), (11, 70, 100)] {
                assertClose(other.mapping.worldPosition(slice: k, row: r, column: c),
                            ras.mapping.worldPosition(slice: k, row: r, column: c), 1e-9, "\(name) pixel \(k),\(r),\(c)")
            }
            for plane in AnatomicalPlane.allCases {
                let options = SlicingOptions(axis: .plane(plane))
                XCTAssertEqual(modelSlices(of: try NiftiReader.readImage(Fixtures.url(name)), options: options).slices,
                               modelSlices(of: try NiftiReader.readImage(Fixtures.url("phantom_ras.nii.gz")), options: options).slices,
                               "\(name) \(plane)")
            }
        }
    }

    func testSliceWorldPositionsFollowTheAffine() throws {
        // Axial slices of the RAS phantom (1 x 1.2 x 3 mm, 40 x 48 x 24): the field of view is 40 x 57.6 mm, so a
        // model pixel is 57.6 / 128 = 0.45 mm and the 40 mm side is centred with 8.8 mm of padding each side.
        let image = try NiftiReader.readImage(Fixtures.url("phantom_ras.nii.gz"))
        let mapping = modelSlices(of: image).mapping
        let (sx, sy) = (image.affine.spacing[0], image.affine.spacing[1])   // 1 and float32(1.2)
        XCTAssertEqual(mapping.pixelSize, 48 * sy / 128, accuracy: 1e-12)
        XCTAssertEqual(mapping.pixelSize, 0.45, accuracy: 1e-6)
        let p = mapping.pixelSize, margin = (128 * p - 40 * sx) / 2   // 8.8 mm of padding before x
        let centre = mapping.worldPosition(slice: 7, row: 0, column: 0)
        // Pixel (0, 0) centre: p/2 - margin from the FOV edge along x, p/2 along y; the FOV edge is voxel -0.5.
        let expected = image.affine.apply([(p / 2 - margin) / sx - 0.5, (p / 2) / sy - 0.5, 7])
        assertClose(centre, expected, 1e-9, "pixel (0, 0)")
    }

    // MARK: - Aspect ratio and padding

    func testFieldOfViewIsFittedAndCentredWithZeroPadding() throws {
        let image = try NiftiReader.readImage(Fixtures.url("phantom_ras.nii.gz"))
        let ones = image.withVoxels([Float](repeating: 100, count: image.count))
        let slices = modelSlices(of: ones, options: SlicingOptions(normalization: .window(center: 50, width: 100))).slices
        // Columns 20...107 lie inside the 40 mm side (see the test above): 88 pixels of 1, 20 + 20 of padding.
        for slice in slices {
            for row in [0, 64, 127] {
                let line = Array(slice[(row * 128)..<(row * 128 + 128)])
                XCTAssertEqual(line.firstIndex(of: 1), 20)
                XCTAssertEqual(line.lastIndex(of: 1), 107)
                XCTAssertEqual(line.filter { $0 == 1 }.count, 88)
                XCTAssertEqual(line.filter { $0 == 0 }.count, 40)
            }
        }
        // Along A the field of view fills all 128 rows.
        XCTAssertEqual((0..<128).filter { slices[0][$0 * 128 + 64] == 1 }.count, 128)
    }

    // MARK: - Slicing axis

    func testAcquisitionAxisFollowsSpacing() throws {
        XCTAssertEqual(SliceMapping.acquisitionAxis(spacing: [0.66, 0.66, 2.1]), 2)
        XCTAssertEqual(SliceMapping.acquisitionAxis(spacing: [1, 3, 1]), 1)
        XCTAssertEqual(SliceMapping.acquisitionAxis(spacing: [2, 2, 2]), 2, "ties go to the last index axis")
        XCTAssertEqual(SliceMapping.acquisitionAxis(spacing: [3, 3, 1]), 1, "ties go to the last index axis")
        XCTAssertEqual(SliceMapping.acquisitionAxis(spacing: [5, 1, 1]), 0)

        let breast = try NiftiReader.readImage(Fixtures.url("breast1_image.nii.gz"))
        let mapping = modelSlices(of: breast).mapping
        XCTAssertEqual(mapping.nativeSliceAxis, 2)
        XCTAssertEqual(mapping.sliceCount, 21)
        // LIA storage: the 3 mm axis is voxel axis 1 (I), which is still axial.
        let lia = SliceMapping(shape: [40, 24, 48], affine: try NiftiReader.readHeader(Fixtures.url("phantom_lia.nii.gz")).affine)
        XCTAssertEqual(lia.nativeSliceAxis, 1)
        XCTAssertEqual(lia.plane, .axial)
        // Voxel axis and plane choices.
        let info = try NiftiReader.readHeader(Fixtures.url("phantom_lia.nii.gz"))
        let byVoxel = SliceMapping(shape: info.shape, affine: info.affine, options: SlicingOptions(axis: .voxel(2)))
        XCTAssertEqual(byVoxel.plane, .coronal)
        XCTAssertEqual(byVoxel.sliceCount, 48)
        let sagittal = SliceMapping(shape: info.shape, affine: info.affine, options: SlicingOptions(axis: .plane(.sagittal)))
        XCTAssertEqual(sagittal.nativeSliceAxis, 0)
        XCTAssertEqual(sagittal.sliceCount, 40)
        XCTAssertEqual([sagittal.columnAxis, sagittal.rowAxis], [1, 2])
    }

    func testRelativePositions() throws {
        let mapping = SliceMapping(shape: [10, 10, 4], affine: .identity)
        XCTAssertEqual(mapping.relativePositions, [0.125, 0.375, 0.625, 0.875])
        XCTAssertEqual(mapping.sliceIndex(nearestRelativePosition: 0), 0)
        XCTAssertEqual(mapping.sliceIndex(nearestRelativePosition: 0.4), 1)
        XCTAssertEqual(mapping.sliceIndex(nearestRelativePosition: 1), 3)
        // In canonical order: for an LAS-stored volume the first slice along R is the last native x.
        let las = SliceMapping(shape: [4, 10, 10], affine: Affine(rows: [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]),
                               options: SlicingOptions(axis: .plane(.sagittal)))
        XCTAssertEqual(las.frame.nativeIndex(ofCanonical: [0, 0, 0]), [3, 0, 0])
    }

    // MARK: - Normalisation

    func testBlankSlicesAreFlaggedInCanonicalOrder() throws {
        // 8 x 6 x 5 LAS volume (i runs right to left): a gradient, except slice k = 0 (zero padding) and k = 3 (one
        // constant, not zero). Sagittal slices run along i, so canonical order reverses it: i = 0 is the last.
        var image = Volume<Float>(shape: [8, 6, 5], affine: Affine(rows: [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]]),
                                  voxels: (0..<240).map { Float($0) })
        for j in 0..<6 { for i in 0..<8 { image[i, j, 0] = 0; image[i, j, 3] = 7 } }
        XCTAssertEqual(modelSlices(of: image).blank, [true, false, false, true, false])
        for j in 0..<6 { for k in 0..<5 { image[0, j, k] = 0 } }
        let sagittal = modelSlices(of: image, options: SlicingOptions(axis: .plane(.sagittal)))
        XCTAssertEqual(sagittal.blank, [false, false, false, false, false, false, false, true])
    }

    func testPercentileWindowMatchesNumpy() throws {
        for name in ["breast1_image.nii.gz", "phantom_ras.nii.gz", "anatomical_be_int16.nii", "reoriented_anat_be_float32.nii",
                     "nifti2_double.nii.gz", "dtype_float64.nii"] {
            let image = try NiftiReader.readImage(Fixtures.url(name))
            let window = IntensityNormalization.robust.window(for: image.voxels)
            let expected = Fixtures.expected[name]!.percentiles
            XCTAssertEqual(window.lower, expected[0], accuracy: 1e-6 * max(1, abs(expected[0])), name)
            XCTAssertEqual(window.upper, expected[1], accuracy: 1e-6 * max(1, abs(expected[1])), name)
        }
    }

    func testNormalisationRanges() throws {
        let image = try NiftiReader.readImage(Fixtures.url("breast1_image.nii.gz"))   // int16 values 6...248
        for normalization in [IntensityNormalization.robust, .minMax, .window(center: 100, width: 120)] {
            let slices = modelSlices(of: image, options: SlicingOptions(normalization: normalization))
            let all = slices.slices.flatMap { $0 }
            XCTAssertTrue(all.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(normalization)")
            // Bilinear sampling between voxel centres need not hit the brightest voxel exactly.
            XCTAssertGreaterThan(all.max()!, 0.95, "\(normalization)")
            XCTAssertEqual(all.min(), 0, "\(normalization)")
        }
        XCTAssertEqual(IntensityNormalization.minMax.window(for: image.voxels), IntensityWindow(lower: 6, upper: 248))
        XCTAssertEqual(IntensityNormalization.window(center: 40, width: 400).window(for: []), IntensityWindow(lower: -160, upper: 240))
        let w = IntensityWindow(lower: -160, upper: 240)
        XCTAssertEqual(w.normalize(-1000), 0); XCTAssertEqual(w.normalize(40), 0.5); XCTAssertEqual(w.normalize(3000), 1)
        XCTAssertEqual(w.normalize(.nan), 0)
        // A constant image: no division by zero, every pixel 0.
        let constant = image.withVoxels([Float](repeating: 7, count: image.count))
        for normalization in [IntensityNormalization.robust, .minMax] {
            let slices = modelSlices(of: constant, options: SlicingOptions(normalization: normalization))
            XCTAssertTrue(slices.slices.allSatisfy { $0.allSatisfy { $0 == 0 } }, "\(normalization)")
        }
    }

    func testPercentilesAreExactOnSeededRandomData() {
        for seed in UInt64(1)...5 {
            var rng = SeededGenerator(seed: seed)
            let n = Int.random(in: 1...5000, using: &rng)
            // Mix of repeated integers (single-value bins) and continuous values (sorted bins).
            let values: [Float] = (0..<n).map { _ in
                Bool.random(using: &rng) ? Float(Int.random(in: -3...3, using: &rng)) : Float.random(in: -1000...1000, using: &rng)
            }
            let sorted = values.sorted().map(Double.init)
            for p in [0.0, 0.5, 25, 50, 99.5, 100] {
                let rank = p / 100 * Double(n - 1), k = Int(rank), f = rank - Double(k)
                let expected = k + 1 < n ? sorted[k] + f * (sorted[k + 1] - sorted[k]) : sorted[k]
                XCTAssertEqual(percentiles(values, [p])[0], expected, accuracy: 1e-9, "seed \(seed), p \(p), n \(n)")
            }
        }
    }

    // MARK: - Round trips: label → model masks → native labels

    func testBreastLabelRoundTrip() throws {
        let image = try NiftiReader.readImage(Fixtures.url("breast1_image.nii.gz"))
        let labels = try NiftiReader.readLabels(Fixtures.url("breast1_label.nii.gz"))
        let slices = modelSlices(of: image)
        let masks = try modelMasks(of: labels, values: [1], like: slices)
        XCTAssertTrue(masks.allSatisfy { $0.allSatisfy { $0 == 0 || $0 == 1 } })
        let back = nativeLabels(masks, mapping: slices.mapping)
        XCTAssertEqual(back.shape, labels.shape)
        XCTAssertEqual(back.affine, labels.affine)
        XCTAssertEqual(back.source, image.source)
        let d = dice(back.voxels, labels.voxels, label: 1)
        print("breast1 label round trip: Dice \(d), \(labels.voxels.filter { $0 == 1 }.count) voxels")
        XCTAssertGreaterThan(d, 0.98)
    }

    func testAreaFractionMasksAreSoftAndThresholdToTheBinaryOnes() throws {
        let image = try NiftiReader.readImage(Fixtures.url("breast1_image.nii.gz"))
        let labels = try NiftiReader.readLabels(Fixtures.url("breast1_label.nii.gz"))
        let slices = modelSlices(of: image, options: SlicingOptions(axis: .plane(.sagittal)))
        let soft = try modelMasks(of: labels, values: [1], like: slices, resampling: .areaFraction)
        let binary = try modelMasks(of: labels, values: [1], like: slices)
        XCTAssertTrue(soft.flatMap { $0 }.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertTrue(soft.flatMap { $0 }.contains { $0 > 0 && $0 < 1 }, "boundary pixels are partly covered")
        XCTAssertEqual(soft.map { $0.map { $0 >= 0.5 ? Float(1) : 0 } }, binary)
        // Total covered area is preserved: Σ fractions · pixel area = voxels · voxel area (in each slice).
        let m = slices.mapping
        let pixelArea = m.pixelSize * m.pixelSize, voxelArea = m.spacing[m.columnAxis] * m.spacing[m.rowAxis]
        let area = soft.map { Double($0.reduce(0, +)) * pixelArea }.reduce(0, +)
        XCTAssertEqual(area, Double(labels.voxels.filter { $0 == 1 }.count) * voxelArea, accuracy: 1e-3)
        let d = dice(nativeLabels(soft, mapping: m).voxels, labels.voxels, label: 1)
        XCTAssertGreaterThan(d, 0.98)
    }

    func testPhantomLabelsRoundTripInEveryPlaneAndStorageOrder() throws {
        for name in ["phantom_ras_label.nii.gz", "phantom_lia_label.nii.gz"] {
            let labels = try NiftiReader.readLabels(Fixtures.url(name))
            let image = labels.withVoxels(labels.voxels.map(Float.init))
            for plane in AnatomicalPlane.allCases {
                let slices = modelSlices(of: image, options: SlicingOptions(axis: .plane(plane)))
                for value: Int32 in [3, 5] {
                    let masks = try modelMasks(of: labels, values: [value], like: slices)
                    let back = nativeLabels(masks, mapping: slices.mapping, label: value)
                    let d = dice(back.voxels, labels.voxels, label: value)
                    XCTAssertGreaterThan(d, 0.98, "\(name) \(plane) label \(value): Dice \(d)")
                }
            }
        }
    }

    /// Spheres with seeded random centre, radius, spacing and storage order; failures print the seed.
    func testSeededSphereRoundTrips() throws {
        for seed in UInt64(1)...6 {
            var rng = SeededGenerator(seed: seed)
            let shape = (0..<3).map { _ in Int.random(in: 24...64, using: &rng) }
            let spacing = (0..<3).map { _ in Double.random(in: 0.5...2.5, using: &rng) }
            let flips = (0..<3).map { _ in Bool.random(using: &rng) }
            var affine = Affine.identity
            for a in 0..<3 {
                affine[a, a] = flips[a] ? -spacing[a] : spacing[a]
                affine[a, 3] = Double.random(in: -100...100, using: &rng)
            }
            let extent = (0..<3).map { Double(shape[$0]) * spacing[$0] }
            let radius = Double.random(in: 0.2...0.35, using: &rng) * extent.min()!
            let centre = (0..<3).map { Double(shape[$0] - 1) / 2 + Double.random(in: -0.1...0.1, using: &rng) * Double(shape[$0]) }
            var voxels = [Int32](repeating: 0, count: shape.reduce(1, *))
            for k in 0..<shape[2] { for j in 0..<shape[1] { for i in 0..<shape[0] {
                let d = [Double(i) - centre[0], Double(j) - centre[1], Double(k) - centre[2]].enumerated()
                    .reduce(0.0) { $0 + pow($1.element * spacing[$1.offset], 2) }
                if d <= radius * radius { voxels[i + shape[0] * (j + shape[1] * k)] = 1 }
            } } }
            let labels = Volume(shape: shape, affine: affine, voxels: voxels)
            let axis = SliceAxis.voxel(Int.random(in: 0..<3, using: &rng))
            let mapping = SliceMapping(shape: shape, affine: affine, options: SlicingOptions(axis: axis))
            let back = nativeLabels(try modelMasks(of: labels, values: [1], mapping: mapping), mapping: mapping)
            let d = dice(back.voxels, voxels, label: 1)
            print("sphere seed \(seed): shape \(shape) spacing \(spacing.map { String(format: "%.2f", $0) }) axis \(axis) Dice \(d)")
            XCTAssertGreaterThan(d, 0.98, "seed \(seed)")
        }
    }

    func testProbabilitiesComeBackOnTheNativeGrid() throws {
        let image = try NiftiReader.readImage(Fixtures.url("dipy_aniso_vox_lps.nii.gz"))
        let slices = modelSlices(of: image)
        let ones = [[Float]](repeating: [Float](repeating: 1, count: 128 * 128), count: slices.slices.count)
        let probabilities = nativeProbabilities(ones, mapping: slices.mapping)
        XCTAssertEqual(probabilities.shape, image.shape)
        XCTAssertEqual(probabilities.affine, image.affine)
        XCTAssertEqual(probabilities.source, image.source)
        XCTAssertTrue(probabilities.voxels.allSatisfy { abs($0 - 1) < 1e-5 })
        // A left-right ramp in the model comes back as a ramp along R in the world.
        let ramp = [[Float]](repeating: (0..<(128 * 128)).map { Float($0 % 128) / 127 }, count: slices.slices.count)
        let back = nativeProbabilities(ramp, mapping: slices.mapping)
        let a = back[0, 29, 12], b = back[57, 29, 12]   // LPS storage: voxel i increases toward L
        XCTAssertGreaterThan(a, b)
    }

    func testMasksOnAnotherGridAreRefused() throws {
        let image = try NiftiReader.readImage(Fixtures.url("breast1_image.nii.gz"))
        let other = try NiftiReader.readLabels(Fixtures.url("phantom_ras_label.nii.gz"))
        XCTAssertThrowsError(try modelMasks(of: other, values: [3], like: modelSlices(of: image))) { error in
            guard case .gridMismatch? = error as? SlicingError else { return XCTFail("\(error)") }
        }
    }

    // MARK: - Benchmark (opt-in: VOLUMEIO_BENCHMARK=1 swift test -c release --filter SlicingTests)

    func testBenchmarkCTSizedVolume() throws {
        guard ProcessInfo.processInfo.environment["VOLUMEIO_BENCHMARK"] != nil else { throw XCTSkip("set VOLUMEIO_BENCHMARK=1") }
        let shape = [512, 512, 300]
        var rng = SeededGenerator(seed: 42)
        let voxels = (0..<shape.reduce(1, *)).map { _ in Float(Int.random(in: -1024...3071, using: &rng)) }
        let affine = Affine(rows: [[-0.7, 0, 0, 180], [0, -0.7, 0, 180], [0, 0, 1.0, -150], [0, 0, 0, 1]])
        let ct = Volume(shape: shape, affine: affine, voxels: voxels)
        var start = Date()
        let slices = modelSlices(of: ct)
        let sliceTime = Date().timeIntervalSince(start)
        start = Date()
        let back = nativeProbabilities(slices.slices, mapping: slices.mapping)
        let backTime = Date().timeIntervalSince(start)
        start = Date()
        _ = IntensityNormalization.robust.window(for: ct.voxels)
        let windowTime = Date().timeIntervalSince(start)
        print(String(format: "512x512x300 CT: modelSlices %.3f s (percentile window %.3f s), nativeProbabilities %.3f s",
                     sliceTime, windowTime, backTime))
        XCTAssertEqual(back.count, ct.count)
    }
}

/// Dice overlap of `label` between two label arrays (1 when both are empty).
func dice(_ a: [Int32], _ b: [Int32], label: Int32) -> Double {
    var both = 0, na = 0, nb = 0
    for (x, y) in zip(a, b) {
        if x == label { na += 1 }
        if y == label { nb += 1 }
        if x == label && y == label { both += 1 }
    }
    return na + nb == 0 ? 1 : 2 * Double(both) / Double(na + nb)
}

/// SplitMix64: a small seeded generator so random tests repeat exactly and print their seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
