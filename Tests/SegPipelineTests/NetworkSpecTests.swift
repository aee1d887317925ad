import DicomNetwork
import Foundation
import Testing
@testable import SegPipeline

/// `inputs.listen` and `outputs.send`: parsed into plain settings, every mistake reported at its line and column.
@Suite struct NetworkSpecTests {
    func check(_ yaml: String) throws -> (PipelineSpec?, [String], URL) {
        let root = try temporaryFolder()
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        try writeFakeSupport(root.appendingPathComponent("lib"), name: "ex")
        let (spec, diagnostics) = PipelineSpecParser.check(yaml, file: "pipeline.yaml", baseFolder: root)
        return (spec, diagnostics.map(\.description), root)
    }

    @Test func listenAndSendParseWithDefaults() throws {
        let (spec, diagnostics, root) = try check("""
            inputs:
              folder: inbox
              format: dicom
              listen: {port: 11112, allowed_calling_aets: [CT1, PACS]}
            support: {library: lib}
            targets: [{name: a, value: 1, labels: 1}]
            outputs:
              folder: out
              writers: [dicom-seg, report]
              send:
                - {host: 127.0.0.1, port: 4242, called_aet: ORTHANC}
                - {host: pacs.example.org, port: 104, called_aet: PACS, calling_aet: SEGMENTER, timeout: 2m}
            """)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(diagnostics == [])
        let s = try #require(spec)
        #expect(s.inputs.listen == ListenSpec(port: 11112, aeTitle: "UNIVERSEG", allowedCallingAETitles: ["CT1", "PACS"]))
        #expect(s.outputs.send == [
            DicomDestination(host: "127.0.0.1", port: 4242, calledAETitle: "ORTHANC", callingAETitle: "UNIVERSEG"),
            DicomDestination(host: "pacs.example.org", port: 104, calledAETitle: "PACS", callingAETitle: "SEGMENTER",
                             timeoutSeconds: 120),
        ])
    }

    @Test func everyNetworkMistakeIsReportedAtItsPlace() throws {
        let (spec, diagnostics, root) = try check("""
            inputs:
              folder: inbox
              format: nifti
              listen: {port: 70000, aet: "WAY_TOO_LONG_AE_TITLE", allowed_calling_aets: "BAD\\\\AE"}
            support: {library: lib}
            targets: [{name: a, value: 1, labels: 1}]
            outputs:
              folder: out
              writers: [nifti, report]
              send:
                - {host: 127.0.0.1, port: 4242}
                - {host: "two words", port: 104, called_aet: PACS}
                - {host: h, port: 104, called_aet: PACS, timeout: 0}
                - {host: h, port: 104, called_aet: PACS, calling_aet: OTHER}
                - {host: h, port: 104, called_aet: PACS, callng_aet: X}
            """)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(spec == nil)
        let text = diagnostics.joined(separator: "\n")
        for expected in [
            "pipeline.yaml:3:11: error: inputs.listen receives DICOM, but inputs.format is nifti",
            "pipeline.yaml:4:18: error: 'port' must be from 1 to 65535, got 70000",
            "pipeline.yaml:11:5: error: outputs.send C-STOREs each study's DICOM SEG, but 'writers' has no dicom-seg",
            "pipeline.yaml:11:7: error: 'send' is missing the required key 'called_aet'",
            "pipeline.yaml:12:14: error: 'host' must be a host name or an IP address, got 'two words'",
            "pipeline.yaml:13:55: error: 'timeout' must be from 1 s to 1 h",
            "pipeline.yaml:14:7: error: destination PACS@h:104 is listed twice",
            "pipeline.yaml:15:46: error: unknown key 'callng_aet' in 'send' (did you mean 'calling_aet'?)",
        ] {
            #expect(text.contains(expected), "missing: \(expected)\nin:\n\(text)")
        }
    }

    @Test func stowTakesOneServiceOrAList() throws {
        let (spec, diagnostics, root) = try check("""
            inputs: {folder: inbox}
            support: {library: lib}
            targets: [{name: a, value: 1, labels: 1}]
            outputs:
              folder: out
              writers: [dicom-seg]
              stow: {url: "https://pacs.example.org/dicom-web", timeout: 5s}
            """)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(diagnostics == [])
        #expect(spec?.outputs.stow == [StowDestination(url: URL(string: "https://pacs.example.org/dicom-web")!, timeoutSeconds: 5)])

        let (_, errors, root2) = try check("""
            inputs: {folder: inbox}
            support: {library: lib}
            targets: [{name: a, value: 1, labels: 1}]
            outputs:
              folder: out
              writers: [nifti]
              stow: [{url: "ftp://x/y"}, {url: "http://a/dw"}, {url: "http://a/dw"}]
            """)
        defer { try? FileManager.default.removeItem(at: root2) }
        #expect(errors == [
            "pipeline.yaml:7:9: error: outputs.stow stores each study's DICOM SEG, but 'writers' has no dicom-seg",
            "pipeline.yaml:7:16: error: 'url' must be an http or https URL of a DICOMweb service, got 'ftp://x/y'",
            "pipeline.yaml:7:52: error: destination STOW http://a/dw is listed twice",
        ])
    }

    @Test func aeTitlesFollowTheDICOMRule() throws {
        let (_, diagnostics, root) = try check("""
            inputs:
              folder: inbox
              listen: {port: 104, aet: "WAY_TOO_LONG_AE_TITLE", allowed_calling_aets: ["BAD\\\\AE", OK]}
            support: {library: lib}
            targets: [{name: a, value: 1, labels: 1}]
            outputs: {folder: out, writers: [dicom-seg]}
            """)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(diagnostics == [
            "pipeline.yaml:3:28: error: 'aet': AE title 'WAY_TOO_LONG_AE_TITLE' is longer than 16 characters",
            "pipeline.yaml:3:76: error: 'allowed_calling_aets': AE title 'BAD\\AE' may hold only printable ASCII characters without '\\'",
        ])
    }
}
