/// Groups slices into volumes: by SeriesInstanceUID, then by orientation and size, then by the keys that tell
/// repeated positions apart (`DicomVolumeSplit`); sorts each along its normal.
enum DicomSeriesAssembly {
    static func assemble(_ headers: [DicomFileHeader]) -> [DicomSeries] {
        // Bucket by series; slices without usable geometry cannot be stacked with others, so each such file is its
        // own bucket (never sorted by InstanceNumber or file name).
        var buckets: [String: [(DicomFileHeader, DicomSlice)]] = [:]
        var bucketOrder: [String] = []
        for header in headers {
            for slice in header.slices {
                let stackable = slice.position != nil && slice.orientation.flatMap(DicomGeometry.directions) != nil
                let key = stackable ? "series:" + header.seriesInstanceUID + "|" + header.studyInstanceUID
                    : "file:" + header.path
                if buckets[key] == nil { bucketOrder.append(key) }
                buckets[key, default: []].append((header, slice))
            }
        }
        var result: [DicomSeries] = []
        for key in bucketOrder {
            let members = buckets[key]!
            // Split by size and orientation (clustered within tolerance, in first-seen order).
            var groups: [[(DicomFileHeader, DicomSlice)]] = []
            for member in members {
                let slice = member.1
                if let g = groups.firstIndex(where: { group in
                    let first = group[0].1
                    return first.rows == slice.rows && first.columns == slice.columns
                        && (first.orientation == nil && slice.orientation == nil
                            || first.orientation.map { o in slice.orientation.map { DicomGeometry.sameOrientation(o, $0) } ?? false } ?? false)
                }) {
                    groups[g].append(member)
                } else {
                    groups.append([member])
                }
            }
            for group in groups {
                let slices = group.map(\.1)
                let split = DicomVolumeSplit.split(slices, normal: slices[0].orientation.flatMap(DicomGeometry.normal))
                for (index, volume) in split.volumes.enumerated() {
                    let info = DicomVolumeInfo(index: index, count: split.volumes.count, splitBy: split.splitBy,
                                               keys: DicomVolumeSplit.sharedKeys(volume, slices))
                    var series = makeSeries(volume.map { group[$0] }, volume: info)
                    if groups.count > 1 {
                        series.warnings.insert("series split into \(groups.count) volumes by orientation or image size", at: 0)
                    }
                    result.append(series)
                }
            }
        }
        return result
    }

    private static func makeSeries(_ members: [(DicomFileHeader, DicomSlice)], volume: DicomVolumeInfo) -> DicomSeries {
        let header = members[0].0
        var slices = members.map(\.1)
        var warnings: [String] = []
        var seenNotes = Set<String>()
        for (h, _) in members { for note in h.notes where seenNotes.insert(note).inserted { warnings.append(note) } }

        let first = slices[0]
        let pixelSpacing = first.pixelSpacing ?? [1, 1]
        if first.pixelSpacing == nil { warnings.append("no PixelSpacing; 1 mm pixels assumed") }
        let placeholder = first.position == nil || first.orientation.flatMap(DicomGeometry.directions) == nil
        let orientation = placeholder ? [1, 0, 0, 0, 1, 0] : first.orientation!
        var positions: [[Double]]
        if placeholder {
            warnings.append("no usable ImagePositionPatient/ImageOrientationPatient: placeholder geometry "
                            + "(identity orientation at the origin)")
            let step = first.spacingBetweenSlices ?? first.sliceThickness ?? 1
            positions = slices.indices.map { [0, 0, Double($0) * step] }
        } else {
            positions = slices.map { $0.position! }
        }
        let multiFrame = Set(Dictionary(grouping: slices, by: \.path).filter { $0.value.count > 1 }.keys)
        let tieBreak = slices.map { "\($0.path)#\(String(format: "%09d", $0.frame))" }
        let stack = DicomGeometry.stack(positions: positions, orientation: orientation, pixelSpacing: pixelSpacing,
                                        singleSliceSpacing: first.spacingBetweenSlices ?? first.sliceThickness,
                                        tieBreak: tieBreak,
                                        names: slices.map { multiFrame.contains($0.path) ? "\($0.path) frame \($0.frame + 1)" : $0.path })!
        warnings += stack.warnings
        if slices.contains(where: { abs(($0.pixelSpacing?[0] ?? 1) - pixelSpacing[0]) > DicomGeometry.pixelSpacingTolerance
            || abs(($0.pixelSpacing?[1] ?? 1) - pixelSpacing[1]) > DicomGeometry.pixelSpacingTolerance }) {
            warnings.append("PixelSpacing differs between slices; the first slice's value is used")
        }
        let orderedPositions = stack.order.map { positions[$0] }
        let kept = Set(stack.order.map { slices[$0].path })
        var leftOut: [String] = []
        for index in stack.duplicates where !kept.contains(slices[index].path) && !leftOut.contains(slices[index].path) {
            leftOut.append(slices[index].path)
        }
        slices = stack.order.map { slices[$0] }

        var reference = DicomSeriesReference(
            files: slices.map(\.path), frames: slices.map(\.frame), sopClassUIDs: slices.map(\.sopClassUID),
            sopInstanceUIDs: slices.map(\.sopInstanceUID), studyInstanceUID: header.studyInstanceUID,
            seriesInstanceUID: header.seriesInstanceUID, frameOfReferenceUID: header.frameOfReferenceUID,
            imagePositions: orderedPositions, imageOrientation: orientation, pixelSpacing: pixelSpacing,
            sliceSpacing: stack.spacing, rows: first.rows, columns: first.columns, sliceIndices: stack.gridIndex)
        reference.isMosaic = first.mosaicTile != nil
        return DicomSeries(studyInstanceUID: header.studyInstanceUID, seriesInstanceUID: header.seriesInstanceUID,
                           metadata: header.metadata, shape: [first.columns, first.rows, stack.gridCount],
                           affine: stack.affineLPS.flippingLPSAndRAS, warnings: warnings, reference: reference,
                           leftOutFiles: leftOut, volume: volume, slices: slices)
    }
}
