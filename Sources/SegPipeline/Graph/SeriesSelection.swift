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
            let keys = candidate.dicom?.volume.keys
            if let wanted = selector.bValue {
                guard let value = keys?.bValue, abs(value - wanted) <= VolumeRule.bValueTolerance else {
                    rejections.append("\(label): b-value \(keys?.bValue.map(number) ?? "not stated") is not \(number(wanted))")
                    continue
                }
            }
            if let wanted = selector.echo, keys?.echoNumber != wanted {
                rejections.append("\(label): echo \(keys?.echoNumber.map(String.init) ?? "not stated") is not \(wanted)")
                continue
            }
            matching.append(candidate)
        }
        matching = applyVolumeRule(matching, selector.volume, rejections: &rejections)
        let chosen: [SeriesCandidate]
        switch selector.pick {
        case .first: chosen = Array(matching.sorted { $0.id < $1.id }.prefix(1))
        case .mostSlices:
            chosen = matching.max { ($0.shape[2], $1.id) < ($1.shape[2], $0.id) }.map { [$0] } ?? []
        }
        let passedOver = matching.filter { candidate in !chosen.contains { $0.id == candidate.id } }
        return Outcome(chosen: chosen, passedOver: passedOver, rejections: rejections)
    }

    /// Keeps, of each multi-volume series, the volume the rule names among those still matching (in the series'
    /// volume order); a single-volume series is its own first and last volume.
    static func applyVolumeRule(_ candidates: [SeriesCandidate], _ rule: VolumeRule,
                                rejections: inout [String]) -> [SeriesCandidate] {
        let ruleText: String
        switch rule {
        case .first: ruleText = "volume: first"
        case .last: ruleText = "volume: last"
        case .number(let n): ruleText = "volume: \(n)"
        }
        var groups: [String: [SeriesCandidate]] = [:]
        var order: [String] = []
        for candidate in candidates {
            let key = candidate.dicom.map { "\($0.studyInstanceUID)|\($0.seriesInstanceUID)|\($0.volume.count)" } ?? "id:" + candidate.id
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(candidate)
        }
        var kept: [SeriesCandidate] = []
        for key in order {
            let volumes = groups[key]!.sorted { ($0.dicom?.volume.index ?? 0) < ($1.dicom?.volume.index ?? 0) }
            let chosen: Int?
            switch rule {
            case .first: chosen = 0
            case .last: chosen = volumes.count - 1
            case .number(let n): chosen = n <= volumes.count ? n - 1 : nil
            }
            for (index, candidate) in volumes.enumerated() {
                if index == chosen { kept.append(candidate); continue }
                let which = candidate.dicom.map { "volume \($0.volume.index + 1) of \($0.volume.count)" } ?? "its only volume"
                let reason = chosen == nil ? "'\(ruleText)' asks for more volumes than the \(volumes.count) that match"
                    : "'\(ruleText)' takes another of the \(volumes.count) matching volumes"
                rejections.append("series \(candidate.id) (\(candidate.description)): \(which); \(reason)")
            }
        }
        return kept
    }

    private static func number(_ value: Double) -> String { String(format: "%g", value) }
}
