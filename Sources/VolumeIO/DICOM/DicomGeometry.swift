import Foundation

/// Slice-stack geometry as small pure functions: sort by position along the normal, check the gaps, build the
/// affine. Inputs and the affine they produce are DICOM LPS; the reader converts to RAS at the edge.
enum DicomGeometry {
    /// Positions closer than this along the normal are duplicates (mm).
    static let duplicateTolerance = 0.01
    /// A gap is uniform when it is within max(absoluteGapTolerance, relativeGapTolerance * spacing) of the spacing.
    static let absoluteGapTolerance = 0.01
    static let relativeGapTolerance = 0.01
    /// A stack whose direction leaves the normal by more than this (radians) is tilted.
    static let tiltTolerance = 1e-3
    /// Two slices lie in the same plane when each ImageOrientationPatient cosine agrees within this. Scanners
    /// write the cosines with about 6 decimals (DS, 16 characters), so one plane agrees far closer; 1e-4 is 0.006°.
    static let orientationTolerance = 1e-4
    /// The row and column directions of ImageOrientationPatient must be perpendicular; a |cosine| between them of
    /// this or more (about 84°) means a corrupt value, not rounding.
    static let perpendicularTolerance = 0.1
    /// A direction vector shorter than this is no direction (a zero or corrupt ImageOrientationPatient); cosines
    /// are unit length up to the ~1e-6 of their decimal encoding.
    static let degenerateLength = 1e-6
    /// PixelSpacing values (mm) of one series that differ by more than this get a warning; the decimal encoding
    /// of one value differs by far less.
    static let pixelSpacingTolerance = 1e-4

    /// Unit slice normal: row direction × column direction of ImageOrientationPatient; nil when degenerate.
    static func normal(_ orientation: [Double]) -> [Double]? {
        guard let (row, column) = directions(orientation) else { return nil }
        return normalized(cross(row, column))
    }

    /// Unit row and column directions of ImageOrientationPatient; nil when either is zero or they are (nearly)
    /// parallel.
    static func directions(_ orientation: [Double]) -> (row: [Double], column: [Double])? {
        guard orientation.count == 6, let row = normalized(Array(orientation[0..<3])),
              let column = normalized(Array(orientation[3..<6])), abs(dot(row, column)) < perpendicularTolerance else { return nil }
        return (row, column)
    }

    /// Whether two ImageOrientationPatient values describe the same plane (each cosine within `orientationTolerance`).
    static func sameOrientation(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == 6 && b.count == 6 && zip(a, b).allSatisfy { abs($0 - $1) < orientationTolerance }
    }

    /// The result of stacking slices.
    struct Stack: Equatable {
        /// Indices into the input, in volume slice order (ascending along the normal). Duplicates are left out.
        var order: [Int]
        /// Inputs left out because another slice has the same position.
        var duplicates: [Int]
        /// Voxel (column, row, slice) to LPS mm.
        var affineLPS: Affine
        /// Step between slice centres along the normal, mm.
        var spacing: Double
        var warnings: [String]
        /// Volume slice (index k) of each entry of `order`: 0, 1, 2, ... unless slices are missing, whose places
        /// then stay empty so that every slice lies exactly at its own position.
        var gridIndex: [Int]
        /// Slices of the volume: `order.count` plus the places left empty.
        var gridCount: Int { (gridIndex.last ?? -1) + 1 }
    }

    /// Sorts slices by ImagePositionPatient projected on the slice normal, reports duplicates, missing slices,
    /// non-uniform gaps (every gap is checked) and gantry tilt, and builds the LPS affine.
    ///
    /// - Parameters:
    ///   - positions: ImagePositionPatient per slice (LPS mm).
    ///   - orientation: ImageOrientationPatient shared by the slices.
    ///   - pixelSpacing: DICOM PixelSpacing: [between rows (along the column direction), between columns].
    ///   - singleSliceSpacing: the step to use when only one slice remains (SpacingBetweenSlices or SliceThickness).
    ///   - tieBreak: ordering of slices at equal positions (e.g. file name), so results do not depend on input order.
    ///   - names: how warnings name each slice.
    /// - Returns: nil when the orientation is degenerate.
    /// - Complexity: O(n log n) in the number of slices.
    static func stack(positions: [[Double]], orientation: [Double], pixelSpacing: [Double],
                      singleSliceSpacing: Double?, tieBreak: [String], names: [String]) -> Stack? {
        guard let (row, column) = directions(orientation), let n = normalized(cross(row, column)),
              !positions.isEmpty else { return nil }
        var warnings: [String] = []
        let distance = positions.map { dot($0, n) }
        let sorted = positions.indices.sorted {
            distance[$0] != distance[$1] ? distance[$0] < distance[$1] : tieBreak[$0] < tieBreak[$1]
        }
        var order: [Int] = [], duplicates: [Int] = []
        for index in sorted {
            if let last = order.last, abs(distance[index] - distance[last]) < duplicateTolerance {
                duplicates.append(index)
            } else {
                order.append(index)
            }
        }
        if !duplicates.isEmpty {
            warnings.append("\(duplicates.count) slice(s) duplicate another slice's position and were left out: "
                            + duplicates.prefix(3).map { names[$0] }.joined(separator: ", ")
                            + (duplicates.count > 3 ? ", ..." : ""))
        }

        let d = order.map { distance[$0] }
        let gaps = zip(d.dropFirst(), d).map { $0 - $1 }
        var spacing: Double
        var step: [Double]
        var gridIndex = Array(order.indices)
        if gaps.isEmpty {
            spacing = singleSliceSpacing ?? 1
            if singleSliceSpacing == nil { warnings.append("single slice without SliceThickness; 1 mm assumed") }
            step = n.map { $0 * spacing }
        } else {
            let median = gaps.sorted()[gaps.count / 2]
            let tolerance = max(absoluteGapTolerance, relativeGapTolerance * median)
            let uniform = gaps.allSatisfy { abs($0 - median) <= tolerance }
            spacing = uniform ? (d.last! - d.first!) / Double(gaps.count) : median
            if !uniform {
                var missing = 0, missingGaps = 0, irregular = 0
                for gap in gaps where abs(gap - median) > tolerance {
                    let multiple = (gap / median).rounded()
                    if multiple >= 2, abs(gap - multiple * median) <= tolerance {
                        missing += Int(multiple) - 1
                        missingGaps += 1
                    } else {
                        irregular += 1
                    }
                }
                // Missing slices get their empty places only when they number no more than the slices present: 4
                // slices with 161 absent (two acquisitions in one series) keep the uniform step and its warning
                // rather than a volume mostly made of nothing.
                let fill = irregular == 0 && missing <= order.count
                if fill {
                    // Each slice at its own multiple of the spacing; the places in between stay empty.
                    for (i, gap) in gaps.enumerated() { gridIndex[i + 1] = gridIndex[i] + max(1, Int((gap / median).rounded())) }
                    spacing = (d.last! - d.first!) / Double(gridIndex.last!)
                }
                if missing > 0 {
                    warnings.append("missing slices: \(missing) slice(s) absent in \(missingGaps) gap(s) of the "
                                    + "\(format(median)) mm spacing" + (fill ? "; their places in the volume are left "
                                    + "empty (the darkest value), so every slice keeps its position" : ""))
                }
                if irregular > 0 {
                    warnings.append("non-uniform slice spacing: \(irregular) of \(gaps.count) gap(s) differ from "
                                    + "\(format(median)) mm (range \(format(gaps.min()!))–\(format(gaps.max()!)) mm)")
                }
                if !fill {
                    let worst = d.enumerated().map { abs($1 - d[0] - Double($0) * median) }.max() ?? 0
                    warnings.append("the volume uses a uniform \(format(median)) mm step; slices lie up to "
                                    + "\(format(worst)) mm from their grid position")
                }
            }
            let first = positions[order.first!], last = positions[order.last!]
            let total = (0..<3).map { last[$0] - first[$0] }
            let along = dot(total, n)
            let across = norm((0..<3).map { total[$0] - along * n[$0] })
            let tilt = atan2(across, abs(along))
            if tilt > tiltTolerance {
                warnings.append(String(format: "gantry tilt: the slice stack leaves the slice normal by %.2f°; "
                                       + "the affine is sheared to keep every voxel in place", tilt * 180 / .pi))
                step = total.map { $0 / Double(gridIndex.last!) }
            } else {
                step = n.map { $0 * spacing }
            }
        }

        let origin = positions[order.first!]
        let columnStep = row.map { $0 * pixelSpacing[1] }   // index i walks along a row: spacing between columns
        let rowStep = column.map { $0 * pixelSpacing[0] }   // index j walks down a column: spacing between rows
        let affine = Affine(rows: [
            [columnStep[0], rowStep[0], step[0], origin[0]],
            [columnStep[1], rowStep[1], step[1], origin[1]],
            [columnStep[2], rowStep[2], step[2], origin[2]],
            [0, 0, 0, 1],
        ])
        return Stack(order: order, duplicates: duplicates, affineLPS: affine, spacing: spacing, warnings: warnings,
                     gridIndex: gridIndex)
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { a[0] * b[0] + a[1] * b[1] + a[2] * b[2] }
    static func cross(_ a: [Double], _ b: [Double]) -> [Double] {
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    }
    static func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }
    static func normalized(_ a: [Double]) -> [Double]? {
        let length = norm(a)
        return length > degenerateLength && length.isFinite ? a.map { $0 / length } : nil
    }
}
