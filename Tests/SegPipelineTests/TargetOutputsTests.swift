import Foundation
import Testing
@testable import SegPipeline
import VolumeIO

/// Per-target statistics, the run's summary.csv and the viewers' legend (colours, codes, colour tables).
@Suite struct TargetOutputsTests {
    /// 4 x 4 x 3 voxels of 2 x 1 x 3 mm at (10, 20, 30); voxel (i, j, k) holds i + 10 j + 100 k.
    /// Label 1: i, j in 1...2 at k = 1 (inside); label 2: the single voxel (3, 0, 2), on the border; label 3: none.
    static func synthetic(xStep: Double = 2) -> (Volume<Float>, Volume<Int32>) {
        let affine = Affine(rows: [[xStep, 0, 0, 10], [0, 1, 0, 20], [0, 0, 3, 30], [0, 0, 0, 1]])
        var image = Volume(shape: [4, 4, 3], affine: affine, voxels: [Float](repeating: 0, count: 48))
        var labels = image.withVoxels([Int32](repeating: 0, count: 48))
        for k in 0..<3 { for j in 0..<4 { for i in 0..<4 {
            image[i, j, k] = Float(i + 10 * j + 100 * k)
            if (1...2).contains(i), (1...2).contains(j), k == 1 { labels[i, j, k] = 1 }
        } } }
        labels[3, 0, 2] = 2
        return (image, labels)
    }

    @Test func statisticsOfASyntheticVolumeHaveTheirExactValues() throws {
        let (image, labels) = Self.synthetic()
        let stats = TargetStatistics.compute(image: image, labels: labels, values: [1, 2, 3])
        let one = try #require(stats[1])
        // Intensities 111, 112, 121, 122.
        #expect(one.intensity.mean == 116.5)
        #expect(one.intensity.std == 25.25.squareRoot())   // deviations ±4.5, ±5.5: variance (2 * 20.25 + 2 * 30.25) / 4
        #expect(one.intensity.min == 111 && one.intensity.max == 122)
        // Ranks (n - 1) p / 100 = 0.15, 0.75, 1.5, 2.25, 2.85 between the sorted values.
        #expect(abs(one.intensity.p5 - 111.15) < 1e-9)
        #expect(one.intensity.p25 == 111.75 && one.intensity.p50 == 116.5 && one.intensity.p75 == 121.25)
        #expect(abs(one.intensity.p95 - 121.85) < 1e-9)
        #expect(one.boundingBoxVoxels == .init(min: [1, 1, 1], max: [2, 2, 1]))
        #expect(one.boundingBoxRAS == .init(min: [12, 21, 33], max: [14, 22, 33]))
        #expect(one.centroidRAS == [13, 21.5, 33])   // index centroid (1.5, 1.5, 1) through the affine
        #expect(!one.touchesBorder)

        let two = try #require(stats[2])
        #expect(two.intensity == .init(mean: 203, std: 0, min: 203, max: 203, p5: 203, p25: 203, p50: 203, p75: 203, p95: 203))
        #expect(two.centroidRAS == [16, 20, 36])
        #expect(two.touchesBorder)
        #expect(stats[3] == nil)
    }

    /// With x running toward the left (negative step) the RAS box still runs from its lowest to its highest value.
    @Test func theRASBoxIsOrderedWhateverTheAxisDirection() throws {
        let (image, labels) = Self.synthetic(xStep: -2)
        let one = try #require(TargetStatistics.compute(image: image, labels: labels, values: [1])[1])
        #expect(one.boundingBoxRAS == .init(min: [6, 21, 33], max: [8, 22, 33]))
        #expect(one.centroidRAS == [7, 21.5, 33])
    }

    /// A single-slice image: every mask lies on its only slice, which is not a truncation.
    @Test func anAxisOfOneVoxelDoesNotCountAsABorder() throws {
        let image = Volume(shape: [5, 5, 1], affine: .identity, voxels: [Float](repeating: 1, count: 25))
        var labels = image.withVoxels([Int32](repeating: 0, count: 25))
        labels[2, 2, 0] = 1
        labels[0, 3, 0] = 2
        let stats = TargetStatistics.compute(image: image, labels: labels, values: [1, 2])
        #expect(stats[1]?.touchesBorder == false)
        #expect(stats[2]?.touchesBorder == true)
    }

    // MARK: summary.csv

    static func report(study: String, targets: [StudyReport.Target], units: String = "HU") -> StudyReport {
        var report = StudyReport(
            study: study, series: "s1", seriesDescription: "", format: .dicom, inputs: [], pipeline: "p",
            pipelineFingerprint: "f", tool: "t", model: "m",
            geometry: .init(shape: [4, 4, 3], spacingMM: [1, 1, 1], orientation: "RAS", affine: []),
            sliceAxis: 2, slicePlane: "axial", slicesProcessed: 3, supportStrategy: "position", supportSize: 1,
            ensemble: 1, threshold: 0.5, seed: 0, fusedAxes: nil, targets: targets, timings: .init(), warnings: [],
            outputs: [], finishedAt: "")
        report.intensityUnits = units
        return report
    }

    @Test func theSummaryTableHasARowPerStudyAndTargetInAStableOrder() throws {
        let (image, labels) = Self.synthetic()
        let stats = TargetStatistics.compute(image: image, labels: labels, values: [1, 2])
        let liver = StudyReport.Target(name: "liver", value: 1, supportLabels: [1], voxels: 4, volumeML: 0.024,
                                       slicesWithMask: 1, supportUsed: [], postprocess: nil, color: [221, 130, 101],
                                       code: CodedConcept(scheme: "SCT", value: "10200004", meaning: "Liver"),
                                       category: .anatomicalStructure, statistics: stats[1])
        var empty = liver
        empty.name = "spleen, accessory"   // a comma: the field is quoted
        empty.value = 2
        empty.voxels = 0
        empty.volumeML = 0
        empty.statistics = nil
        empty.code = nil
        var second = liver
        second.statistics = stats[2]
        second.voxels = 1
        second.volumeML = 0.006
        // Studies come sorted by name whatever the order of the reports.
        let csv = StatisticsTable.csv([Self.report(study: "b", targets: [second], units: "source"),
                                       Self.report(study: "a", targets: [liver, empty])])
        #expect(csv == """
            study,series,target,value,code_scheme,code_value,code_meaning,voxels,volume_ml,intensity_units,mean,std,min,max,\
            p5,p25,p50,p75,p95,centroid_r_mm,centroid_a_mm,centroid_s_mm,bbox_i_min,bbox_j_min,bbox_k_min,bbox_i_max,\
            bbox_j_max,bbox_k_max,bbox_r_min_mm,bbox_a_min_mm,bbox_s_min_mm,bbox_r_max_mm,bbox_a_max_mm,bbox_s_max_mm,\
            touches_border
            a,s1,liver,1,SCT,10200004,Liver,4,0.024,HU,116.5,\(25.25.squareRoot()),111.0,122.0,\(stats[1]!.intensity.p5),\
            111.75,116.5,121.25,\(stats[1]!.intensity.p95),13.0,21.5,33.0,1,1,1,2,2,1,12.0,21.0,33.0,14.0,22.0,33.0,false
            a,s1,"spleen, accessory",2,,,,0,0.0,HU,,,,,,,,,,,,,,,,,,,,,,,,,
            b,s1,liver,1,SCT,10200004,Liver,1,0.006,source,203.0,0.0,203.0,203.0,203.0,203.0,203.0,203.0,203.0,\
            16.0,20.0,36.0,3,0,2,3,0,2,16.0,20.0,36.0,16.0,20.0,36.0,true

            """)
        #expect(csv.split(separator: "\n").allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count
            == StatisticsTable.columns.count + ($0.contains("\"") ? 1 : 0) })
    }

    /// The committed output of a real run (Fixtures/statistics-run: `universeg run pipeline.yaml` on tiny.nii.gz)
    /// is what the code computes today, so Tools/stats_check, which checks that fixture against nibabel + numpy,
    /// checks this code.
    @Test func theStatisticsRunFixtureIsWhatTheCodeWritesToday() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/statistics-run")
        let image = try NiftiReader.readImage(folder.appendingPathComponent("tiny.nii.gz"))
        let labels = try NiftiReader.readLabels(folder.appendingPathComponent("tiny_seg.nii.gz"))
        let report = try JSONDecoder().decode(StudyReport.self, from: Data(contentsOf: folder.appendingPathComponent("tiny_report.json")))
        let stats = TargetStatistics.compute(image: image, labels: labels, values: report.targets.map(\.value))
        #expect(report.targets.map(\.statistics) == report.targets.map { stats[$0.value] })
        #expect(report.targets.allSatisfy { $0.statistics != nil })
        #expect(StatisticsTable.csv([report]) == (try String(contentsOf: folder.appendingPathComponent("summary.csv"), encoding: .utf8)))
        var disc = Self.target("disc", 1)
        disc.color = DisplayColor(200, 120, 80)
        disc.code = CodedConcept(scheme: "SCT", value: "10200004", meaning: "Liver")
        let legend = TargetLegend(targets: [disc, Self.target("edge", 2)])
        #expect(legend.slicerColorTable == (try String(contentsOf: folder.appendingPathComponent("tiny_seg.ctbl"), encoding: .utf8)))
        #expect(legend.itksnapLabelDescriptions
            == (try String(contentsOf: folder.appendingPathComponent("tiny_seg.itksnap.txt"), encoding: .utf8)))
    }

    /// A CT study's statistics are in Hounsfield units: the DICOM reader applied RescaleIntercept -1024 (stored
    /// values are unsigned here, so only rescaled values go below 0), and the report says "HU".
    @Test func aCTStudysStatisticsAreInHounsfieldUnits() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let ct = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../VolumeIOTests/Fixtures/dicom/ct-series-shuffled").standardizedFileURL
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inputs"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: ct, to: root.appendingPathComponent("inputs/ct"))
        try writeFakeSupport(root.appendingPathComponent("support"), name: "a")
        var spec = fakeSpec(root: root, writers: [.nifti, .report])
        spec.inputs.format = .dicom
        let result = try await BatchRun(graph: JobGraph(spec: spec, segmenter: FakeSegmenter())).run()
        #expect(result.done == 1)
        let report = try #require(result.outcomes.first?.report)
        #expect(report.intensityUnits == "HU")
        let series = try #require(DicomReader.scan(root.appendingPathComponent("inputs/ct")).series.first)
        let image = try DicomReader.readVolume(series)
        #expect(image.voxels.min()! < 0)
        let labels = try NiftiReader.readLabels(spec.outputs.folder.appendingPathComponent("ct/ct_seg.nii.gz"))
        let stats = try #require(report.targets[0].statistics)
        // On the series' own affine (the NIfTI label map's is stored in float32).
        #expect(stats == TargetStatistics.compute(image: image, labels: image.withVoxels(labels.voxels), values: [1])[1])
        let inside = zip(image.voxels, labels.voxels).filter { $0.1 == 1 }.map { Double($0.0) }
        #expect(stats.intensity.min == inside.min() && stats.intensity.max == inside.max())
        let csv = try String(contentsOf: spec.outputs.folder.appendingPathComponent("summary.csv"), encoding: .utf8)
        #expect(csv.contains(",HU,"))
    }

    // MARK: Legend

    static func target(_ name: String, _ value: Int32) -> TargetSpec {
        TargetSpec(name: name, value: value, supportLabels: [value])
    }

    @Test func targetsWithoutColourOrCodeGetThePaletteAndTheGenericCode() {
        var liver = Self.target("liver", 1)
        liver.color = DisplayColor(221, 130, 101)
        liver.code = CodedConcept(scheme: "SCT", value: "10200004", meaning: "Liver")
        let legend = TargetLegend(targets: [liver, Self.target("b", 2), Self.target("c", 3)])
        #expect(legend.colors == [DisplayColor(221, 130, 101), TargetLegend.palette[1], TargetLegend.palette[2]])
        #expect(legend.entries.map(\.code) == [liver.code!, .tissue, .tissue])
        #expect(legend.entries.allSatisfy { $0.category == .anatomicalStructure })
        #expect(legend.segments.map(\.type) == [liver.code!, .tissue, .tissue])
        // Seven targets: the palette repeats.
        let many = TargetLegend(targets: (1...7).map { Self.target("t\($0)", Int32($0)) })
        #expect(many.colors[6] == TargetLegend.palette[0])
    }

    @Test func colourTablesListBackgroundThenEachTargetByValue() {
        var liver = Self.target("liver", 2)
        liver.color = DisplayColor(221, 130, 101)
        let legend = TargetLegend(targets: [liver, Self.target("lesion", 1)])
        #expect(legend.slicerColorTable == """
            # Color table file written by \(ToolInfo.version)
            # 3 values
            0 background 0 0 0 0
            1 lesion 40 220 40 255
            2 liver 221 130 101 255

            """)
        let rows = legend.itksnapLabelDescriptions.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(rows == [
            "    0     0    0    0        0  0  0    \"Clear Label\"",
            "    1    40  220   40        1  1  1    \"lesion\"",
            "    2   221  130  101        1  1  1    \"liver\"",
        ])
        #expect(legend.itksnapLabelDescriptions.hasPrefix("################################################\n# ITK-SnAP Label Description File\n"))
    }

    @Test func colourTablesAreNamedAfterTheLabelMap() {
        var suffixes = OutputSuffixes()
        #expect(suffixes.slicerColorTable == "_seg.ctbl" && suffixes.itksnapLabels == "_seg.itksnap.txt")
        suffixes.labelMap = ".nii"
        #expect(suffixes.slicerColorTable == ".ctbl" && suffixes.itksnapLabels == ".itksnap.txt")
    }
}
