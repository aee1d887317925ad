import Foundation
import VolumeIO

/// Finds and reads the image series of a study and the pairs of a support library, with VolumeIO's readers.
/// Every error names the file and the reason.
enum StudyReader {
    /// Header facts of one volume file (NIfTI, NRRD, MetaImage or MGH; no voxels are decompressed).
    static func fileSeries(_ file: URL) throws -> SeriesCandidate {
        let header = try VolumeFile.readHeader(file)
        let name = file.lastPathComponent
        var candidate = SeriesCandidate(id: VolumeFile.stem(name), format: SeriesFormat(header.format), modality: nil,
                                        description: name, shape: header.shape, affine: header.affine,
                                        files: [file] + header.dataFiles.map { URL(fileURLWithPath: $0) })
        candidate.warnings = header.warnings.map { "\(name): \($0)" }
        if header.format == .nifti, header.volumeCount > 1 {
            candidate.warnings.append("\(name) holds \(header.volumeCount) volumes; the first is segmented")
        }
        return candidate
    }

    /// The image series found under a DICOM study folder (headers only). Files that are not images are skipped;
    /// when nothing is left, the error lists why each file was skipped (the first few).
    static func dicomSeries(in folder: URL) throws -> [SeriesCandidate] {
        let scan = DicomReader.scan(folder)
        guard !scan.series.isEmpty else {
            let reasons = scan.skipped.prefix(3).map(\.description) + (scan.skipped.count > 3 ? ["..."] : [])
            throw PipelineError.unreadable(folder.path, reason: "no DICOM image series found"
                                           + (reasons.isEmpty ? " (the folder is empty)" : ": " + reasons.joined(separator: "; ")))
        }
        // A file left out of every series (a corrupt slice, a report, a DICOMDIR) is named in each series' warnings:
        // a dropped slice otherwise shows only as a gap.
        let leftOut = scan.skipped.prefix(3).map { "\(URL(fileURLWithPath: $0.path).lastPathComponent) (\($0.reason))" }
        let skippedNote = scan.skipped.isEmpty ? nil : "\(scan.skipped.count) file(s) in the study are in no image "
            + "series and were not used: \(leftOut.joined(separator: "; "))\(scan.skipped.count > 3 ? "; ..." : "")"
        var ids: Set<String> = []
        return scan.series.map { series in
            let uidTail = series.seriesInstanceUID.split(separator: ".").last.map(String.init) ?? "series"
            var id = series.metadata.seriesNumber.map { "S" + $0.filter { $0.isLetter || $0.isNumber } } ?? uidTail
            if id == "S" { id += "-" + uidTail }
            if series.volume.count > 1 { id += "-v\(series.volume.index + 1)" }   // one per volume of a 4D series
            if ids.contains(id) { id += "-" + uidTail }
            ids.insert(id)
            var candidate = SeriesCandidate(
                id: id, format: .dicom, modality: series.metadata.modality,
                description: series.metadata.seriesDescription ?? "", shape: series.shape, affine: series.affine,
                files: series.reference.distinctFiles.map { URL(fileURLWithPath: $0) }, dicom: series)
            candidate.warnings = series.warnings + (skippedNote.map { [$0] } ?? [])
            return candidate
        }
    }

    /// The voxels of `series` in RAS+, with its source geometry (for writing outputs on exactly its grid).
    static func readImage(_ series: SeriesCandidate) throws -> Volume<Float> {
        if let dicom = series.dicom { return try DicomReader.readVolume(dicom) }
        return try VolumeFile.readImage(series.files[0])
    }

    /// One support example: the image, its label map (which must lie on the same grid) and its annotated slices.
    /// A DICOM SEG pair's label map is the SEG placed on its series' grid (voxel = segment number), and its
    /// annotated slices are those the SEG has frames on.
    static func readSupport(_ pair: LabelledPair) throws -> SupportVolumes {
        switch pair.source {
        case .files:
            let label = try VolumeFile.readLabels(pair.label)
            return SupportVolumes(image: try VolumeFile.readImage(pair.image), label: label,
                                  annotated: pair.annotation.resolved(on: label))
        case .dicomSeg(let uid):
            guard let series = DicomReader.scan(pair.image).series.first(where: { $0.seriesInstanceUID == uid }) else {
                throw PipelineError.unreadable(pair.image.path, reason: "the series \(uid) that \(pair.label.lastPathComponent) "
                                               + "references is no longer there")
            }
            let image = try DicomReader.readVolume(series)
            let seg = try DicomSegmentation.read(pair.label)
            return SupportVolumes(image: image, label: try seg.labelMap(on: series.reference, affine: image.affine),
                                  annotated: .along(axis: 2, indices: try seg.framedSlices(on: series.reference)),
                                  segments: seg.segments.map { ($0.number, $0.label) })
        }
    }
}

/// A support pair as read: image, label map on its grid, and the slices someone annotated.
struct SupportVolumes {
    var image: Volume<Float>
    var label: Volume<Int32>
    var annotated: AnnotatedSlices
    /// A SEG's segments (number, SegmentLabel); none for NIfTI.
    var segments: [(number: Int, label: String)] = []

    /// The label values `target` takes here: its values, and the numbers of the segments its names label.
    func values(of target: TargetSpec) -> Set<Int32> {
        let names = Set(target.supportSegmentLabels.map { $0.lowercased() })
        return Set(target.supportLabels).union(segments.filter { names.contains($0.label.lowercased()) }.map { Int32($0.number) })
    }
}
