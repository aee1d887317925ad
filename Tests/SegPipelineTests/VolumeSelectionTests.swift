import Foundation
import Testing
@testable import SegPipeline

/// The `series` rules for multi-volume DICOM series (volume, b_value, echo), on a real Siemens diffusion series
/// (VolumeIOTests' mosaic fixtures: b=0 and b=1000 of one series) and through the definition parser.
@Suite struct VolumeSelectionTests {
    /// The two diffusion mosaics gunzipped into a study folder.
    func diffusionStudy() throws -> URL {
        let root = try temporaryFolder()
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("VolumeIOTests/Fixtures/dicom/mosaic")
        for name in ["siemens_dwi_0", "siemens_dwi_1000"] {
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            gzip.arguments = ["gzip", "-dc", fixtures.appendingPathComponent(name + ".dcm.gz").path]
            let output = root.appendingPathComponent(name + ".dcm")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            gzip.standardOutput = try FileHandle(forWritingTo: output)
            try gzip.run()
            gzip.waitUntilExit()
            #expect(gzip.terminationStatus == 0)
        }
        return root
    }

    @Test func eachVolumeIsACandidateAndTheRulesPickOne() throws {
        let root = try diffusionStudy()
        defer { try? FileManager.default.removeItem(at: root) }
        let candidates = try StudyReader.dicomSeries(in: root)
        #expect(candidates.map(\.id) == ["S12-v1", "S12-v2"])
        #expect(candidates.map { $0.dicom?.volume.keys.bValue } == [0, 1000])

        let byDefault = SeriesSelection.choose(candidates, SeriesSelector())
        #expect(byDefault.chosen.map(\.id) == ["S12-v1"])
        #expect(byDefault.rejections == ["series S12-v2 (CBU_DTI_64D_1A): volume 2 of 2; 'volume: first' takes "
                                         + "another of the 2 matching volumes"])
        #expect(SeriesSelection.choose(candidates, SeriesSelector(volume: .last)).chosen.map(\.id) == ["S12-v2"])
        #expect(SeriesSelection.choose(candidates, SeriesSelector(volume: .number(2))).chosen.map(\.id) == ["S12-v2"])

        let diffusion = SeriesSelection.choose(candidates, SeriesSelector(bValue: 1000))
        #expect(diffusion.chosen.map(\.id) == ["S12-v2"])
        #expect(diffusion.rejections == ["series S12-v1 (CBU_DTI_64D_1A): b-value 0 is not 1000"])

        let tooFar = SeriesSelection.choose(candidates, SeriesSelector(volume: .number(3)))
        #expect(tooFar.chosen.isEmpty)
        #expect(tooFar.rejections.count == 2)
        #expect(tooFar.rejections.allSatisfy { $0.hasSuffix("'volume: 3' asks for more volumes than the 2 that match") })
        let noEcho = SeriesSelection.choose(candidates, SeriesSelector(echo: 2))
        #expect(noEcho.chosen.isEmpty)
        #expect(noEcho.rejections.first == "series S12-v1 (CBU_DTI_64D_1A): echo 1 is not 2")
    }

    func parse(_ series: String) throws -> (PipelineSpec?, [String]) {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inputs"), withIntermediateDirectories: true)
        try writeFakeSupport(root.appendingPathComponent("lib"), name: "ex")
        let yaml = """
            inputs:
              folder: inputs
              series: \(series)
            support: {library: lib}
            targets: [{name: a, value: 1, labels: 1}]
            outputs: {folder: out}
            """
        let (spec, diagnostics) = PipelineSpecParser.check(yaml, file: "pipeline.yaml", baseFolder: root)
        return (spec, diagnostics.map(\.description))
    }

    @Test func theVolumeRulesParseAndTheirMistakesAreReportedWhereTheyAre() throws {
        let (spec, errors) = try parse("{volume: last, b_value: 1000, echo: 1}")
        #expect(errors == [])
        #expect(spec?.inputs.series == SeriesSelector(bValue: 1000, echo: 1, volume: .last))
        #expect(try parse("{volume: 2}").0?.inputs.series.volume == .number(2))
        #expect(try parse("{}").0?.inputs.series.volume == .first)

        #expect(try parse("{volume: lsat}").1 == [
            "pipeline.yaml:3:20: error: 'volume' must be first, last or a volume number, got 'lsat' (did you mean 'last'?)"])
        #expect(try parse("{volume: 0}").1 == ["pipeline.yaml:3:20: error: 'volume' must be 1 or more, got 0"])
        #expect(try parse("{b_value: high}").1 == ["pipeline.yaml:3:21: error: 'b_value' must be a number, got 'high'"])
        #expect(try parse("{echo: 0}").1 == ["pipeline.yaml:3:18: error: 'echo' must be from 1 to 1000, got 0"])
    }
}
