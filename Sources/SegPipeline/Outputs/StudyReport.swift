import Foundation
import VolumeIO

/// The per-study JSON report (`<name>_report.json`). Field names are stable: scripts read them.
public struct StudyReport: Codable, Sendable, Equatable {
    public struct Geometry: Codable, Sendable, Equatable {
        public var shape: [Int]
        public var spacingMM: [Double]
        public var orientation: String
        /// Row-major 4x4, voxel index to RAS+ mm.
        public var affine: [Double]
    }

    public struct Target: Codable, Sendable, Equatable {
        public var name: String
        public var value: Int32
        public var supportLabels: [Int32]
        public var voxels: Int
        public var volumeML: Double
        /// Slices (along the slicing axis) holding any of this target's voxels.
        public var slicesWithMask: Int
        /// Support examples used, as "pair:slice", deduplicated, in first-use order.
        public var supportUsed: [String]
        /// The post-processing applied, in words (nil: none).
        public var postprocess: String?
        /// How viewers show it (`TargetLegend`): sRGB colour, and the SEG's Segmented Property Type and Category.
        /// Optional so that reports written before these fields still decode.
        public var color: [Int]?
        public var code: CodedConcept?
        public var category: CodedConcept?
        /// Volume, intensities, bounds and centroid of the mask; nil when the target is empty.
        public var statistics: TargetStatistics?
        /// The slices (index in the file along the slicing axis) where the prediction is least certain, most
        /// uncertain first: the ones to annotate next (`SliceConfidence`, docs/support-libraries.md).
        public var leastConfidentSlices: [SliceConfidence.Slice]?
    }

    /// The colour tables written beside the NIfTI label map, relative to the output folder.
    public struct ColorTables: Codable, Sendable, Equatable {
        /// 3D Slicer colour table (`.ctbl`).
        public var slicer: String
        /// ITK-SNAP label description file.
        public var itksnap: String
    }

    public struct Timings: Codable, Sendable, Equatable {
        public var readSeconds: Double = 0
        public var prepareSeconds: Double = 0
        public var inferSeconds: Double = 0
        /// Of `inferSeconds`, the time inside the engine (preparing support sets and predicting slices).
        public var engineSeconds: Double = 0
        public var assembleSeconds: Double = 0
        public var writeSeconds: Double = 0
        public var totalSeconds: Double = 0
    }

    public var study: String
    public var series: String
    public var seriesDescription: String
    public var format: SeriesFormat
    public var inputs: [String]
    public var pipeline: String
    public var pipelineFingerprint: String
    public var tool: String
    public var model: String
    public var geometry: Geometry
    /// Index axis the volume was sliced along (0 = i, 1 = j, 2 = k) and the plane of those slices.
    public var sliceAxis: Int
    public var slicePlane: String
    public var slicesProcessed: Int
    public var supportStrategy: String
    public var supportSize: Int
    public var ensemble: Int
    public var threshold: Double
    public var seed: UInt64
    /// True when the study was segmented along all three planes and the probabilities averaged (nil: one plane).
    public var fusedAxes: Bool?
    public var targets: [Target]
    /// The unit of the targets' intensity statistics: "HU" for CT; "source" otherwise (the stored values after
    /// the DICOM modality LUT or the NIfTI scaling).
    public var intensityUnits: String?
    public var colorTables: ColorTables?
    public var timings: Timings
    public var warnings: [String]
    /// Output files, relative to the output folder.
    public var outputs: [String]
    public var finishedAt: String
    /// For DICOM studies: the UIDs that find the source series and the written SEG in a PACS (no patient data).
    public var dicom: DicomIdentity?

    public struct DicomIdentity: Codable, Sendable, Equatable {
        public var studyInstanceUID: String
        public var seriesInstanceUID: String
        public var modality: String?
        /// The SEG written for the study, when the dicom-seg writer ran.
        public var segSeriesInstanceUID: String?
        public var segSOPInstanceUID: String?
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// The report among a study's `outputs` (paths relative to `folder`), or nil when there is none or it does not
    /// parse.
    public static func read(from outputs: [String], in folder: URL) -> StudyReport? {
        guard let path = outputs.first(where: { $0.hasSuffix("_report.json") }),
              let data = try? Data(contentsOf: folder.appendingPathComponent(path)) else { return nil }
        return try? JSONDecoder().decode(StudyReport.self, from: data)
    }
}

public enum ToolInfo {
    /// The version reported in every output.
    public static let version = "universeg 0.1.0"
}

extension StudyReport {
    /// Per target with a least-confident list, one line (`Target.annotateNext`), for index.html.
    public var annotateNext: [String] { targets.compactMap(\.annotateNext) }
}

extension StudyReport.Target {
    /// "lesion: slices 14 (312 px), 9 (58 px)" (expected wrong pixels on the model grid); nil when no slice is listed.
    public var annotateNext: String? {
        guard let slices = leastConfidentSlices, !slices.isEmpty else { return nil }
        return "\(name): slices " + slices.map { "\($0.slice) (\(String(format: "%.0f", $0.uncertainty)) px)" }
            .joined(separator: ", ")
    }
}
