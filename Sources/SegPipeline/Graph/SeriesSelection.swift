import Foundation
import VolumeIO

/// Applies a `SeriesSelector` to a study's series, keeping a reason for each one turned down.
public enum SeriesSelection {
    public struct Outcome: Sendable {
        public var chosen: [SeriesCandidate]
        /// Candidates that passed every rule and were not chosen (the pick rule broke the tie).
        public var passedOver: [SeriesCandidate]
        /// "series 3 (T2 FLAIR): modality CT is not MR", one per rejected candidate.
        public var rejections: [String]
    }

    public static func choose(_ candidates: [SeriesCandidate], _ selector: SeriesSelector) -> Outcome {
        var matching: [SeriesCandidate] = []
        var rejections: [String] = []
        let regex = selector.description.flatMap { try? NSRegularExpression(pattern: $0) }
        for candidate in candidates {
            let label = "series \(candidate.id) (\(candidate.description))"
            if let modality = selector.modality, candidate.modality?.uppercased() != modality.uppercased() {
                rejections.append("\(label): modality \(candidate.modality ?? "unknown") is not \(modality)")
                continue
            }
            if let regex {
                let text = candidate.description
                if regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                    rejections.append("\(label): description does not match /\(regex.pattern)/")
                    continue
                }
            }
            let slices = candidate.shape.count == 3 ? candidate.shape[2] : 1
            if let orientation = selector.orientation {
                // The stored slices lie across voxel axis k: their plane is the one normal to k's world axis.
                let plane = AnatomicalPlane(normalAxis: AxisOrientation(candidate.affine).worldAxis[2])
                if plane != orientation {
                    rejections.append("\(label): slices are \(plane.rawValue), not \(orientation.rawValue)")
                    continue
                }
            }
            if slices < selector.minSlices {
                rejections.append("\(label): \(slices) slices, fewer than \(selector.minSlices)")
                continue
            }
            matching.append(candidate)
        }
        let chosen: [SeriesCandidate]
        switch selector.pick {
        case .first: chosen = Array(matching.sorted { $0.id < $1.id }.prefix(1))
        case .mostSlices:
            chosen = matching.max { ($0.shape[2], $1.id) < ($1.shape[2], $0.id) }.map { [$0] } ?? []
        }
        let passedOver = matching.filter { candidate in !chosen.contains { $0.id == candidate.id } }
        return Outcome(chosen: chosen, passedOver: passedOver, rejections: rejections)
    }
}
