import Foundation

/// The result of `universeg evaluate` on one task (written as JSON with `--json`).
public struct EvaluationReport: Encodable, Sendable, Equatable {
    /// One scored query slice: a slice of a query volume whose model mask shows foreground.
    public struct SliceScore: Codable, Sendable, Equatable {
        public var volume: String
        /// Native voxel index along the slicing axis (`axis` of the volume), as a viewer shows it.
        public var index: Int
        public var dice: Double
        public var baselineDice: Double?

        enum CodingKeys: String, CodingKey { case volume, index, dice, baselineDice = "baseline_dice" }
    }

    /// One query volume segmented whole, as a pipeline does it, and compared with its label on the native grid.
    public struct VolumeScore: Encodable, Sendable, Equatable {
        public var name: String
        /// NIfTI voxel axis the volume was sliced along; slice counts are along it.
        public var axis: Int
        public var dice3D: Double
        public var precision: Double
        public var recall: Double
        /// Slices with and without foreground in the label.
        public var labelledSlices: Int
        public var emptySlices: Int
        /// Label-free slices given foreground (false shapes), and labelled slices given none.
        public var fpSlices: Int
        public var missedSlices: Int
        public var baselineDice3D: Double?

        public init(name: String, axis: Int, metrics: VolumeMetrics, baselineDice3D: Double?) {
            self.name = name
            self.axis = axis
            dice3D = metrics.dice
            precision = metrics.precision
            recall = metrics.recall
            labelledSlices = metrics.labelledSlices
            emptySlices = metrics.emptySlices
            fpSlices = metrics.falsePositiveSlices
            missedSlices = metrics.missedSlices
            self.baselineDice3D = baselineDice3D
        }

        enum CodingKeys: String, CodingKey {
            case name, axis, precision, recall
            case dice3D = "dice_3d", baselineDice3D = "baseline_dice_3d", labelledSlices = "labelled_slices"
            case emptySlices = "empty_slices", fpSlices = "fp_slices", missedSlices = "missed_slices"
        }
    }

    /// A support slice: volume name and native index along its slicing axis.
    public struct SupportSlice: Codable, Sendable, Hashable {
        public var volume: String
        public var index: Int
    }

    public var task: String
    public var slices: [SliceScore]
    public var volumes: [VolumeScore]
    /// Mean over `slices` of the 2D Dice on the 128 x 128 model grid (the paper's protocol).
    public var meanDice2D: Double
    /// Mean over `volumes` of the 3D Dice on the native grid.
    public var meanDice3D: Double
    /// How the volumes were segmented whole (strategy, groups, post-processing).
    public var wholeVolume: String
    /// Requested support size, and the size used (smaller when the task has fewer foreground support slices).
    public var supportSize: Int
    public var effectiveSupportSize: Int
    /// Foreground support slices available to draw from.
    public var supportPool: Int
    public var ensemble: Int
    public var seed: UInt64
    /// Wall time of the evaluation, reading the volumes included.
    public var seconds: Double
    /// Nearest-support-slice baseline (with `--baseline`).
    public var baselineMeanDice2D: Double?
    public var baselineMeanDice3D: Double?
    /// The support set of each ensemble member.
    public var supportSets: [[SupportSlice]]
    /// Notes on the task that bear on the numbers (support and query fields of view far apart).
    public var warnings: [String] = []

    enum CodingKeys: String, CodingKey {
        case task, slices, volumes, ensemble, seed, seconds, warnings
        case wholeVolume = "whole_volume", meanPrecision = "mean_precision", meanRecall = "mean_recall"
        case fpSlices = "fp_slices", emptySlices = "empty_slices", missedSlices = "missed_slices"
        case labelledSlices = "labelled_slices"
        case meanDice2D = "mean_dice_2d", meanDice3D = "mean_dice_3d"
        case supportSize = "support_size", effectiveSupportSize = "effective_support_size", supportPool = "support_pool"
        case baselineMeanDice2D = "baseline_mean_dice_2d", baselineMeanDice3D = "baseline_mean_dice_3d"
        case supportSets = "support_sets"
    }

    /// Means over `volumes`, and slice counts summed over them.
    public var meanPrecision: Double { Evaluator.mean(volumes.map(\.precision)) }
    public var meanRecall: Double { Evaluator.mean(volumes.map(\.recall)) }
    public var fpSlices: Int { volumes.map(\.fpSlices).reduce(0, +) }
    public var emptySlices: Int { volumes.map(\.emptySlices).reduce(0, +) }
    public var missedSlices: Int { volumes.map(\.missedSlices).reduce(0, +) }
    public var labelledSlices: Int { volumes.map(\.labelledSlices).reduce(0, +) }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(task, forKey: .task)
        try c.encode(slices, forKey: .slices)
        try c.encode(volumes, forKey: .volumes)
        try c.encode(meanDice2D, forKey: .meanDice2D)
        try c.encode(meanDice3D, forKey: .meanDice3D)
        try c.encode(wholeVolume, forKey: .wholeVolume)
        try c.encode(meanPrecision, forKey: .meanPrecision)
        try c.encode(meanRecall, forKey: .meanRecall)
        try c.encode(fpSlices, forKey: .fpSlices)
        try c.encode(emptySlices, forKey: .emptySlices)
        try c.encode(missedSlices, forKey: .missedSlices)
        try c.encode(labelledSlices, forKey: .labelledSlices)
        try c.encode(supportSize, forKey: .supportSize)
        try c.encode(effectiveSupportSize, forKey: .effectiveSupportSize)
        try c.encode(supportPool, forKey: .supportPool)
        try c.encode(ensemble, forKey: .ensemble)
        try c.encode(seed, forKey: .seed)
        try c.encode(seconds, forKey: .seconds)
        try c.encodeIfPresent(baselineMeanDice2D, forKey: .baselineMeanDice2D)
        try c.encodeIfPresent(baselineMeanDice3D, forKey: .baselineMeanDice3D)
        try c.encode(supportSets, forKey: .supportSets)
        try c.encode(warnings, forKey: .warnings)
    }

    /// Pretty-printed JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// A few lines for the terminal: the means, then one line per query volume.
    public func text() -> String {
        let support = effectiveSupportSize == supportSize ? "S=\(supportSize)"
            : "S=\(supportSize) (only \(counted(effectiveSupportSize, "foreground support slice")): all used)"
        var lines = ["\(task): paper protocol (\(support), K=\(ensemble), seed \(seed)): mean Dice 2D \(decimalText(meanDice2D)) "
            + "over \(counted(slices.count, "slice")) with foreground",
            "  whole volumes (\(wholeVolume)): 3D Dice \(decimalText(meanDice3D)), precision \(decimalText(meanPrecision)), "
            + "recall \(decimalText(meanRecall)); false shapes on \(fpSlices) of \(counted(emptySlices, "label-free slice")), "
            + "missed \(missedSlices) of \(counted(labelledSlices, "labelled slice")) (\(decimalText(seconds, 1)) s)"]
        if let b2 = baselineMeanDice2D, let b3 = baselineMeanDice3D {
            lines.append("  baseline (label of the nearest foreground support slice): 2D \(decimalText(b2)), 3D \(decimalText(b3))")
        }
        lines += warnings.map { "  warning: \($0)" }
        for volume in volumes {
            let own = slices.filter { $0.volume == volume.name }
            let mean2D = own.isEmpty ? "-" : decimalText(own.map(\.dice).reduce(0, +) / Double(own.count))
            var line = "  \(volume.name): 3D \(decimalText(volume.dice3D)) (precision \(decimalText(volume.precision)), recall "
                + "\(decimalText(volume.recall)), false shapes on \(volume.fpSlices)/\(volume.emptySlices) label-free slices, missed "
                + "\(volume.missedSlices)/\(volume.labelledSlices)); 2D \(mean2D) over \(counted(own.count, "slice")) along axis \(volume.axis)"
            if let b = volume.baselineDice3D { line += " (baseline 3D \(decimalText(b)))" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `universeg evaluate --sweep`: mean 2D Dice against support size, without and with ensembling (the table of
/// the UniverSeg paper).
public struct SweepReport: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var supportSize: Int
        public var effectiveSupportSize: Int
        /// One support set (ensemble member 0), the same as `evaluate --support-size S --ensemble 1`.
        public var meanDice2D: Double
        /// Mean probability of `ensemble` support sets.
        public var meanDice2DEnsemble: Double

        enum CodingKeys: String, CodingKey {
            case supportSize = "support_size", effectiveSupportSize = "effective_support_size"
            case meanDice2D = "mean_dice_2d", meanDice2DEnsemble = "mean_dice_2d_ensemble"
        }
    }

    public var task: String
    public var ensemble: Int
    public var seed: UInt64
    public var supportPool: Int
    public var querySlices: Int
    public var rows: [Row]
    public var seconds: Double
    public var baselineMeanDice2D: Double?
    public var warnings: [String] = []

    enum CodingKeys: String, CodingKey {
        case task, ensemble, seed, rows, seconds, warnings
        case supportPool = "support_pool", querySlices = "query_slices", baselineMeanDice2D = "baseline_mean_dice_2d"
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The table: one row per support size.
    public func table() -> String {
        func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var lines = ["\(task): mean Dice 2D over \(counted(querySlices, "query slice")); \(counted(supportPool, "foreground support slice")); "
            + "seed \(seed); \(decimalText(seconds, 1)) s"]
        lines.append(pad("S", 6) + pad("used", 8) + pad("K=1", 10) + pad("K=\(ensemble)", 10))
        for row in rows {
            lines.append(pad("\(row.supportSize)", 6) + pad("\(row.effectiveSupportSize)", 8)
                + pad(decimalText(row.meanDice2D), 10) + pad(decimalText(row.meanDice2DEnsemble), 10))
        }
        if let baseline = baselineMeanDice2D {
            lines.append("baseline (label of the nearest foreground support slice): \(decimalText(baseline))")
        }
        lines += warnings.map { "warning: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// "1 slice", "3 slices".
fileprivate func counted(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

/// `x` with `digits` decimals.
fileprivate func decimalText(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }
