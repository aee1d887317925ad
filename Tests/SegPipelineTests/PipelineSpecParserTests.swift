import Foundation
import Testing
@testable import SegPipeline
import VolumeIO

@Suite struct PipelineSpecParserTests {
    /// A folder with inputs/, a support library and the given YAML as pipeline.yaml.
    func check(_ yaml: String) throws -> (PipelineSpec?, [SpecDiagnostic], URL) {
        let root = try temporaryFolder()
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inputs"), withIntermediateDirectories: true)
        try writeFakeSupport(root.appendingPathComponent("lib"), name: "ex")
        let (spec, diagnostics) = PipelineSpecParser.check(yaml, file: "pipeline.yaml", baseFolder: root)
        return (spec, diagnostics, root)
    }

    static let valid = """
        version: 1
        name: demo
        inputs:
          folder: inputs
          series: {modality: mr, description: "(?i)t1", orientation: axial, min_slices: 5}
        preprocessing:
          axis: k
          normalization: {method: window, center: 40, width: 400}
          fuse_axes: true
        support:
          library: lib
          strategy: position
          groups: 4
        targets:
          - name: liver
            value: 1
            labels: [1, 2]
          - name: spleen
            value: 2
            labels: 3
            postprocess: {smooth_slices: true, largest_component: true, min_component_ml: 0.5, fill_holes: true}
        model: {support_size: 8, ensemble: 2, threshold: 0.4, seed: 9, precision: bf16}
        outputs:
          folder: out
          naming: "{study}/{series}"
          writers: [nifti, report]
        concurrency: {threads: 2, queue_depth: 2}
        watch: {settle: 2m, poll: 500ms}
        """

    @Test func aValidDefinitionParsesWithEveryField() throws {
        let (spec, diagnostics, root) = try check(Self.valid)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(diagnostics == [])
        let s = try #require(spec)
        #expect(s.name == "demo")
        #expect(s.inputs.folder.path == root.appendingPathComponent("inputs").standardizedFileURL.path)
        #expect(s.inputs.series == SeriesSelector(modality: "MR", description: "(?i)t1", orientation: .axial, minSlices: 5))
        #expect(s.preprocessing == PreprocessingSpec(axis: .voxel(2), normalization: .window(center: 40, width: 400), fuseAxes: true))
        #expect(s.support.strategy == .position && s.support.groups == 4)
        #expect(s.targets.map(\.name) == ["liver", "spleen"])
        #expect(s.targets.map(\.supportLabels) == [[1, 2], [3]])
        #expect(s.targets.map(\.cleanup) == [.none, MaskCleanup(largestComponent: true, minComponentML: 0.5, fillHoles: true)])
        #expect(s.targets.map(\.smoothSlices) == [false, true])
        #expect(s.model == ModelSpec(weights: nil, supportSize: 8, ensemble: 2, threshold: 0.4, seed: 9, precision: .bf16))
        #expect(s.outputs.writers == [.nifti, .report])
        #expect(s.concurrency == ConcurrencySpec(threads: 2, queueDepth: 2))
        #expect(s.watch.settleSeconds == 120 && s.watch.pollSeconds == 0.5)
        #expect(s.watch.doneFolder.lastPathComponent == "done")
    }

    @Test func anUnknownPrecisionIsAnErrorNamingTheChoices() throws {
        let (spec, diagnostics, root) = try check(Self.valid.replacingOccurrences(of: "precision: bf16", with: "precision: fp16"))
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(spec == nil)
        #expect(diagnostics.map(\.description) == ["pipeline.yaml:22:75: error: unknown precision 'fp16'"])
        #expect(diagnostics.first?.hint == "choose one of auto, fp32, bf16")
    }

    /// `segment --normalization` reads the same grammar as a definition, through the same reader.
    @Test func aCommandLineNormalizationUsesTheDefinitionGrammar() throws {
        #expect(try PipelineSpecParser.normalization("minmax", option: "--normalization") == .minMax)
        #expect(try PipelineSpecParser.normalization("{method: window, center: 40, width: 400}", option: "--normalization")
            == .window(center: 40, width: 400))
        #expect(try PipelineSpecParser.normalization("{method: percentile, lower: 1, upper: 99}", option: "-n")
            == .percentile(lower: 1, upper: 99))
        #expect(throws: PipelineSpecError.self) { try PipelineSpecParser.normalization("windw", option: "--normalization") }
        do {
            _ = try PipelineSpecParser.normalization("{method: window, center: 40}", option: "--normalization")
            Issue.record("accepted a window without a width")
        } catch let error as PipelineSpecError {
            #expect(error.description.hasPrefix("--normalization:1:1: error: "), "\(error)")
        }
    }

    @Test func unknownKeysAreErrorsWithTheirPositionAndASuggestion() throws {
        let yaml = Self.valid.replacingOccurrences(of: "outputs:\n", with: "outptus:\n")
            .replacingOccurrences(of: "    value: 2\n", with: "    valeu: 2\n")
        let (spec, diagnostics, root) = try check(yaml)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(spec == nil)
        let lines = diagnostics.map(\.description)
        #expect(lines.contains("pipeline.yaml:19:5: error: unknown key 'valeu' in 'target' (did you mean 'value'?)"))
        #expect(lines.contains("pipeline.yaml:23:1: error: unknown key 'outptus' in 'pipeline' (did you mean 'outputs'?)"))
        // Reading goes on as if the suggested key was meant: no cascade of "missing key" errors.
        #expect(lines.count == 2)
        #expect(diagnostics.allSatisfy { $0.hint != nil })
    }

    @Test func aMissingRequiredKeyIsReportedAtItsMapping() throws {
        let (spec, diagnostics, root) = try check("inputs: {folder: inputs}\ntargets: [{name: a, labels: 1}]\n")
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(spec == nil)
        #expect(diagnostics.map(\.description) == [
            "pipeline.yaml:1:1: error: 'pipeline' is missing the required key 'outputs'",
            "pipeline.yaml:2:11: error: 'target' is missing the required key 'value'",
            "pipeline.yaml:2:11: error: target 'a' has no support library",
        ])
    }

    @Test func everyErrorIsReportedNotJustTheFirst() throws {
        let yaml = """
            inputs:
              folder: nowhere
              format: dicomm
            preprocessing:
              axis: diagonal
              normalization: {method: percentile, lower: 90, upper: 10}
            targets:
              - name: "bad name"
                value: 0
                labels: []
            model:
              threshold: 1.5
              ensemble: many
            outputs:
              folder: out
              naming: "{studdy}"
              writers: [nifit, report, report]
            """
        let (spec, diagnostics, root) = try check(yaml)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(spec == nil)
        let text = diagnostics.map(\.description).joined(separator: "\n")
        for expected in [
            "pipeline.yaml:2:11: error: input folder 'nowhere' does not exist",
            "pipeline.yaml:3:11: error: unknown input format 'dicomm' (did you mean 'dicom'?)",
            "pipeline.yaml:5:9: error: unknown axis 'diagonal'",
            "pipeline.yaml:6:57: error: 'upper' (10.0) must be above 'lower' (90.0)",
            "pipeline.yaml:8:11: error: target name 'bad name' may hold only letters, digits",
            "pipeline.yaml:9:12: error: 'value' must be from 1 to 65535, got 0",
            "pipeline.yaml:10:13: error: 'labels' must name at least one support label value",
            "pipeline.yaml:12:14: error: 'threshold' must be strictly between 0.0 and 1.0, got 1.5",
            "pipeline.yaml:13:13: error: 'ensemble' must be a whole number, got 'many'",
            "pipeline.yaml:16:11: error: unknown placeholder '{studdy}' in 'naming' (did you mean 'study'?)",
            "pipeline.yaml:17:13: error: unknown writer 'nifit' (did you mean 'nifti'?)",
            "pipeline.yaml:17:28: error: writer 'report' is listed twice",
        ] {
            #expect(text.contains(expected), "missing: \(expected)\nin:\n\(text)")
        }
        // Sorted by position.
        #expect(diagnostics.map(\.location) == diagnostics.map(\.location).sorted())
    }

    /// `color`, `code` and `category` on a target: parsed as given; a target without them keeps nil (the legend's
    /// defaults apply later).
    @Test func targetsCarryTheirColourAndCodes() throws {
        let yaml = Self.valid.replacingOccurrences(of: "    labels: [1, 2]\n", with: """
            labels: [1, 2]
            color: [221, 130, 101]
            code: {scheme: SCT, value: "10200004", meaning: Liver}
            category: {scheme: SCT, value: 91723000, meaning: Anatomical Structure}

        """)
        let (spec, diagnostics, root) = try check(yaml)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(diagnostics == [])
        let targets = try #require(spec).targets
        #expect(targets[0].color == DisplayColor(221, 130, 101))
        #expect(targets[0].code == CodedConcept(scheme: "SCT", value: "10200004", meaning: "Liver"))
        #expect(targets[0].category == .anatomicalStructure)
        #expect(targets[1].color == nil && targets[1].code == nil && targets[1].category == nil)
    }

    @Test func aBadColourOrCodeIsAnErrorAtItsPosition() throws {
        let yaml = Self.valid.replacingOccurrences(of: "    labels: [1, 2]\n", with: """
            labels: [1, 2]
            color: [255, 300, 0]
            code: {scheme: SCT, value: "10200004"}
          - name: kidney
            value: 3
            labels: 4
            color: red
            code: {scheme: SCT, value: "1234567890123456789", meaning: Kidney}
            category: {scheme: SCT, value: "1", meaning: "", extra: 1}

        """)
        let (spec, diagnostics, root) = try check(yaml)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(spec == nil)
        let text = diagnostics.map(\.description).joined(separator: "\n")
        for expected in [
            "pipeline.yaml:18:18: error: 'color' channel 300 is out of range",
            "pipeline.yaml:19:11: error: 'code' is missing the required key 'meaning'",
            "pipeline.yaml:23:12: error: 'color' must be a list of three numbers [red, green, blue], got 'red'",
            "pipeline.yaml:24:32: error: 'code': the code's value '1234567890123456789' is longer than 16 characters",
            "pipeline.yaml:25:50: error: 'category': the code's meaning is empty",
            "pipeline.yaml:25:54: error: unknown key 'extra' in 'category'",
        ] {
            #expect(text.contains(expected), "missing: \(expected)\nin:\n\(text)")
        }
        #expect(diagnostics.count == 6)
        #expect(diagnostics.first { $0.message.contains("out of range") }?.hint?.contains("0 to 255") == true)
    }

    @Test func yamlSyntaxErrorsCarryTheirPosition() throws {
        let (spec, diagnostics, root) = try check("inputs:\n  folder: inputs\n   bad: [1, 2\n")
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(spec == nil)
        #expect(diagnostics.count == 1)
        #expect(diagnostics[0].location.line == 3)
        #expect(diagnostics[0].description.hasPrefix("pipeline.yaml:3:"))
    }

    @Test func semanticRulesNeedingTheFileSystemAndOtherSections() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inputs"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("emptylib"), withIntermediateDirectories: true)
        let yaml = """
            inputs: {folder: inputs, format: nifti, series: {description: "(unclosed"}}
            support: {library: emptylib}
            targets:
              - {name: a, value: 1, labels: 1}
              - {name: a, value: 1, labels: 2}
            model: {weights: missing.safetensors}
            outputs: {folder: inputs/out, writers: [dicom-seg]}
            """
        let (_, diagnostics) = PipelineSpecParser.check(yaml, file: "p.yaml", baseFolder: root)
        let text = diagnostics.map(\.description).joined(separator: "\n")
        for expected in [
            "p.yaml:1:63: error: 'description' is not a valid regular expression",
            "p.yaml:2:20: error: support library '\(root.appendingPathComponent("emptylib").standardizedFileURL.path)' holds no NAME_image.nii.gz + NAME_label.nii.gz pairs",
            "p.yaml:5:12: error: target name 'a' is used twice",
            "p.yaml:5:22: error: label value 1 is produced by two targets",
            "p.yaml:6:18: error: weights file 'missing.safetensors' does not exist",
            "p.yaml:7:19: error: the output folder lies inside the input folder",
            "p.yaml:7:41: error: writer 'dicom-seg' needs DICOM inputs, but inputs.format is nifti",
        ] {
            #expect(text.contains(expected), "missing: \(expected)\nin:\n\(text)")
        }
    }

    @Test func aSupportLibraryWithHalfAPairIsAnErrorAtItsLine() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inputs"), withIntermediateDirectories: true)
        let library = root.appendingPathComponent("lib")
        try writeFakeSupport(library, name: "a")
        try writeFakeVolume(library.appendingPathComponent("b_image.nii.gz"))
        let yaml = """
            inputs: {folder: inputs}
            support: {library: lib}
            targets: [{name: t, value: 1, labels: 1}]
            outputs: {folder: out}
            """
        let (spec, diagnostics) = PipelineSpecParser.check(yaml, file: "p.yaml", baseFolder: root)
        #expect(spec == nil)
        #expect(diagnostics.map(\.description) == [
            "p.yaml:2:20: error: support library '\(library.standardizedFileURL.path)': b_image.nii.gz has no b_label.nii.gz"])
    }

    @Test func anOutputFolderInsideASupportLibraryIsAnError() throws {
        let (spec, diagnostics, root) = try check("""
            inputs: {folder: inputs}
            support: {library: lib}
            targets: [{name: t, value: 1, labels: 1}]
            outputs: {folder: lib/results}
            """)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(spec == nil)
        #expect(diagnostics.map(\.description).contains { $0.hasPrefix("pipeline.yaml:4:19: error: the output folder lies inside the support library ") })
    }

    @Test func renderedDiagnosticsShowTheLineACaretAndTheHint() {
        let d = SpecDiagnostic(file: "p.yaml", location: SourceLocation(line: 2, column: 3), message: "unknown key 'x'",
                               hint: "the keys are a, b")
        #expect(d.rendered(source: "a: 1\n  x: 2\n") == """
            p.yaml:2:3: error: unknown key 'x'
                  x: 2
                  ^
                hint: the keys are a, b
            """)
    }

    @Test func theShippedExamplePipelinesParse() throws {
        let pipelines = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Pipelines").standardizedFileURL
        let spec = try PipelineSpecParser.load(pipelines.appendingPathComponent("brain-lesion-nifti.yaml"))
        #expect(spec.targets.map(\.name) == ["lesion"])
        #expect(spec.inputs.folder.lastPathComponent == "nifti-study")
        #expect(spec.model.ensemble == 3)
    }

    @Test func suggestionsOnlyForPlausibleTypos() {
        #expect(Suggestion.closest(to: "outptus", in: PipelineSpecParser.topKeys) == "outputs")
        #expect(Suggestion.closest(to: "modle", in: PipelineSpecParser.topKeys) == "model")
        #expect(Suggestion.closest(to: "banana", in: PipelineSpecParser.topKeys) == nil)
    }

    /// Foundation on Linux leaks a regular expression's pattern buffer on every compile past 256 UTF-16 units; the
    /// fuzzer found it through a pipeline whose quoted description ran on over several lines (the committed input).
    @Test func aDescriptionPatternOver256CharactersIsRefusedUncompiled() throws {
        let found = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/regressions/pipeline-yaml/fuzz-leak-long-description.yaml")
        let fuzzed = String(decoding: try Data(contentsOf: found), as: UTF8.self)
        let long = "version: 2\nname: t\ninputs: {folder: ., format: dicom, series: {description: '\(String(repeating: "a", count: 257))'}}\n"
        let fits = "version: 2\nname: t\ninputs: {folder: ., format: dicom, series: {description: '\(String(repeating: "a", count: 256))'}}\n"
        for text in [fuzzed, long] {
            let (_, diagnostics) = PipelineSpecParser.check(text, file: "p.yaml", baseFolder: FileManager.default.temporaryDirectory)
            #expect(diagnostics.contains { $0.description.contains("at most 256 are allowed") }, "\(diagnostics)")
        }
        let (_, diagnostics) = PipelineSpecParser.check(fits, file: "p.yaml", baseFolder: FileManager.default.temporaryDirectory)
        #expect(!diagnostics.contains { $0.description.contains("description") }, "\(diagnostics)")
    }
}
