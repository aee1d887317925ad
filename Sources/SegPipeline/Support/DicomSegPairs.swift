import Foundation
import VolumeIO

/// Support pairs from the PACS: a library subfolder holding a DICOM image series and a DICOM SEG that references
/// it (ReferencedSeriesSequence), as exported from a viewer or retrieved with the study. The SEG's segment numbers
/// are its label values (a target's `labels: [2]` takes segment 2), and the slices it annotated are the slices it
/// has frames on (`Annotation.segFrames`).
enum DicomSegPairs {
    /// The pairs in `folder` (a library's subfolder `name`): one per SEG file, named `name`, or `name-FILE` when the
    /// folder holds several SEGs. Headers only. A folder without a SEG, or a SEG whose series is not in the folder,
    /// is an error: an example silently left out would change every result made with the library.
    static func pairs(in folder: URL, name: String) throws(PairFolderError) -> [LabelledPair] {
        let hint = "a subfolder of a support library holds a DICOM series and a DICOM SEG that references it"
        let scan = DicomReader.scan(folder)
        let segs = scan.skipped.filter { $0.kind == .notAnImage }.compactMap { skipped -> (URL, [String])? in
            let url = URL(fileURLWithPath: skipped.path)
            return DicomSegmentation.referencedSeries(of: url).map { (url, $0) }
        }.sorted { $0.0.path < $1.0.path }
        guard !segs.isEmpty else {
            throw PairFolderError(folder: folder.path, reason: "holds no DICOM SEG (\(scan.series.count) image series, "
                                  + "\(scan.skipped.count) other file(s))", advice: hint)
        }
        let seriesUIDs = Set(scan.series.map(\.seriesInstanceUID))
        var pairs: [LabelledPair] = []
        for (seg, referenced) in segs {
            guard let uid = referenced.first(where: seriesUIDs.contains) else {
                let named = referenced.isEmpty ? "no series (no ReferencedSeriesSequence)" : "series " + referenced.joined(separator: ", ")
                throw PairFolderError(folder: seg.path, reason: "the SEG references \(named), which is not in \(folder.lastPathComponent)/",
                                      advice: hint)
            }
            let stem = seg.deletingPathExtension().lastPathComponent.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" }
            let pairName = segs.count == 1 ? name : "\(name)-\(String(stem))"
            pairs.append(LabelledPair(name: pairName, image: folder, label: seg, annotation: .segFrames,
                                      source: .dicomSeg(seriesInstanceUID: uid)))
        }
        return pairs
    }
}
