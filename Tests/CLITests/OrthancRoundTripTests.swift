import DicomNetwork
import Foundation
import TestPorts
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import VolumeIO
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The clinical loop on loopback with a real PACS: Debian's Orthanc, started here with a temporary configuration.
/// A DICOM study is pushed with DCMTK's storescu to `universeg watch`'s listener (killed with SIGKILL before the
/// study settles, then restarted: nothing acknowledged is lost), segmented (small random weights:
/// the loop is under test, not the model), and its SEG C-STOREd to Orthanc, whose REST API must then show a SEG series
/// in the same StudyInstanceUID referencing the source series and instances. Then, with Orthanc stopped, `run` exits 1
/// "written, not delivered" (also to a second Orthanc, a DICOMweb STOW-RS destination, not started yet); with both
/// back, the next run delivers to each without recomputing, exactly once.
/// Everything started here is stopped by its PID.
final class OrthancRoundTripTests: XCTestCase {
    static let repo = UniverSegBinary.repository
    static let study = repo.appendingPathComponent("SampleData/dicom-tissue-study/t1part2-mr")
    static let weights = repo.appendingPathComponent("Tests/UniverSegTests/Fixtures/mixed.safetensors")
    static let jpeg2000 = repo.appendingPathComponent("Tests/VolumeIOTests/Fixtures/dicom/syntaxes/MR_small_jp2klossless.dcm")

    func testStudyInOverDICOMSEGOutToOrthancAndRedeliveryAfterAnOutage() throws {
        guard let orthancPath = OrthancServer.executable() else {
            throw XCTSkip("Orthanc is not installed (apt-get install orthanc; scripts/install-deps.sh does)")
        }
        try XCTSkipUnless(Tool.exists("storescu") && Tool.exists("echoscu"), "DCMTK's storescu/echoscu are not installed")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: OrthancServer.dicomWebPlugin),
                          "Orthanc's DICOMweb plugin is not installed (apt-get install orthanc-dicomweb; scripts/install-deps.sh does)")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-orthanc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }

        let orthanc = try OrthancServer(executable: orthancPath, folder: root.appendingPathComponent("orthanc"))
        defer { orthanc.stop() }
        try orthanc.start()

        // The source study, as the SEG must reference it.
        let scan = DicomReader.scan(Self.study)
        let source = try XCTUnwrap(scan.series.first)
        let sourceSOPs = try Set(FileManager.default.contentsOfDirectory(at: Self.study, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "dcm" }.map { try DicomSender.sopInstanceUID(of: $0) })
        XCTAssertEqual(sourceSOPs.count, 31)

        // 1. watch with a listener, fed by storescu.
        let listenPort = freeLoopbackPort()
        let watchYAML = root.appendingPathComponent("watch.yaml")
        try pipeline(inputs: "inbox", listen: "listen: {port: \(listenPort), aet: UNIVERSEG, allowed_calling_aets: [MODALITY]}",
                     outputs: "out-watch", orthancPort: orthanc.dicomPort, extra: "watch: {settle: 3s, poll: 200ms}")
            .write(to: watchYAML, atomically: true, encoding: .utf8)
        func startWatch(_ log: String) throws -> BackgroundProcess {
            let watch = try BackgroundProcess(UniverSegBinary.url, ["watch", watchYAML.path, "--weights", Self.weights.path],
                                              log: root.appendingPathComponent(log))
            try wait("the listener answers C-ECHO", timeout: 60) {
                try Tool.run("echoscu", ["-aet", "MODALITY", "-aec", "UNIVERSEG", "127.0.0.1", String(listenPort)]).status == 0
            }
            return watch
        }
        let killed = try startWatch("killed.log")
        defer { killed.stop() }
        let files = try FileManager.default.contentsOfDirectory(at: Self.study, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "dcm" }.map(\.path).sorted()
        let pushed = try Tool.run("storescu", ["-aet", "MODALITY", "-aec", "UNIVERSEG", "127.0.0.1", String(listenPort)] + files)
        XCTAssertEqual(pushed.status, 0, pushed.output)

        // Killed (SIGKILL) before the study settles: every acknowledged instance is already filed, whole.
        try wait("the listener reports the association", timeout: 10) { killed.output.contains("listener: received ") }
        killed.kill()
        let seriesFolder = root.appendingPathComponent("inbox/\(source.studyInstanceUID)/\(source.seriesInstanceUID)")
        let filed = try FileManager.default.contentsOfDirectory(atPath: seriesFolder.path)
        XCTAssertEqual(Set(filed), Set(sourceSOPs.map { "\($0).dcm" }))
        XCTAssertEqual(DicomReader.scan(seriesFolder).series.first?.shape, source.shape)

        // A restarted watch picks the study up from the inbox.
        let watch = try startWatch("watch.log")
        defer { watch.stop() }

        // A transfer syntax the readers cannot decode is refused at association time, and said so.
        let profile = root.appendingPathComponent("mpeg2.cfg")
        try """
            [[TransferSyntaxes]]
            [MPEG2]
            TransferSyntax1 = 1.2.840.10008.1.2.4.100
            [[PresentationContexts]]
            [Contexts]
            PresentationContext1 = MRImageStorage\\MPEG2
            [[Profiles]]
            [Sender]
            PresentationContexts = Contexts
            """.write(to: profile, atomically: true, encoding: .utf8)
        let refused = try Tool.run("storescu", ["-aet", "MODALITY", "-aec", "UNIVERSEG", "-xf", profile.path, "Sender",
                                                "127.0.0.1", String(listenPort), Self.jpeg2000.path])
        XCTAssertNotEqual(refused.status, 0, refused.output)

        try wait("Orthanc holds a SEG", timeout: 240) { try orthanc.segInstanceCount() >= 1 }
        XCTAssertEqual(try orthanc.segInstanceCount(), 1)
        let series = try XCTUnwrap(try orthanc.segSeries().first)
        let study = try orthanc.json("/studies/\(try XCTUnwrap(series["ParentStudy"] as? String))") as? [String: Any]
        XCTAssertEqual((study?["MainDicomTags"] as? [String: Any])?["StudyInstanceUID"] as? String, source.studyInstanceUID)
        let instance = try XCTUnwrap((series["Instances"] as? [String])?.first)
        let tags = try XCTUnwrap(try orthanc.json("/instances/\(instance)/tags?simplify") as? [String: Any])
        XCTAssertEqual(tags["Modality"] as? String, "SEG")
        let referenced = try XCTUnwrap((tags["ReferencedSeriesSequence"] as? [[String: Any]])?.first)
        XCTAssertEqual(referenced["SeriesInstanceUID"] as? String, source.seriesInstanceUID)
        let referencedSOPs = Set(((referenced["ReferencedInstanceSequence"] as? [[String: Any]]) ?? [])
            .compactMap { $0["ReferencedSOPInstanceUID"] as? String })
        XCTAssertFalse(referencedSOPs.isEmpty)
        XCTAssertTrue(referencedSOPs.isSubset(of: sourceSOPs), "\(referencedSOPs.subtracting(sourceSOPs))")

        watch.stop()
        let watchLog = watch.output
        XCTAssertTrue(killed.output.contains("listener: received 31 instances from 'MODALITY' (127.0.0.1) into \(source.studyInstanceUID)"),
                      killed.output)
        XCTAssertTrue(watchLog.contains("the readers cannot decode that transfer syntax"), watchLog)
        XCTAssertTrue(watchLog.contains("delivered to ORTHANC@127.0.0.1:\(orthanc.dicomPort)"), watchLog)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("inbox/done/\(source.studyInstanceUID)").path),
                      "the study moved to done/")

        // 2. run with Orthanc down, and a second Orthanc (with its DICOMweb plugin) as a STOW-RS destination, not
        // started yet: written, not delivered to either, exit 1.
        orthanc.stop()
        let web = try OrthancServer(executable: orthancPath, folder: root.appendingPathComponent("orthanc-web"), dicomWeb: true)
        defer { web.stop() }
        let stow = "STOW http://127.0.0.1:\(web.httpPort)/dicom-web"
        let runYAML = root.appendingPathComponent("run.yaml")
        try pipeline(inputs: Self.study.deletingLastPathComponent().path, listen: nil, outputs: "out-run",
                     orthancPort: orthanc.dicomPort, extra: "",
                     stow: "  stow: {url: \"http://127.0.0.1:\(web.httpPort)/dicom-web\", timeout: 10s}")
            .write(to: runYAML, atomically: true, encoding: .utf8)
        let arguments = ["run", runYAML.path, "--weights", Self.weights.path]
        let down = try UniverSegBinary.run(arguments)
        XCTAssertEqual(down.status, 1, down.err)
        XCTAssertTrue(down.err.contains("t1part2-mr: written, not delivered to ORTHANC@127.0.0.1:\(orthanc.dicomPort): "), down.err)
        XCTAssertTrue(down.err.contains("t1part2-mr: written, not delivered to \(stow): "), down.err)
        XCTAssertTrue(down.out.contains("1 done, 0 skipped, 0 failed") && down.out.contains("1 written, not delivered"), down.out)
        let plan = try UniverSegBinary.run(["run", "--dry-run", runYAML.path, "--weights", Self.weights.path])
        XCTAssertTrue(plan.out.contains("skip     t1part2-mr: done at "), plan.out)
        XCTAssertTrue(plan.out.contains("deliver  t1part2-mr: t1part2-mr/t1part2-mr_seg.dcm to ORTHANC@127.0.0.1:\(orthanc.dicomPort) (written, not delivered)"), plan.out)
        XCTAssertTrue(plan.out.contains("deliver  t1part2-mr: t1part2-mr/t1part2-mr_seg.dcm to \(stow) (written, not delivered)"), plan.out)

        // 3. Both back: the next run sends the SEG to each without segmenting again, once; a third run sends nothing.
        try orthanc.start()
        try web.start()
        XCTAssertEqual(try orthanc.segInstanceCount(), 1)
        XCTAssertEqual(try web.segInstanceCount(), 0)
        let up = try UniverSegBinary.run(arguments)
        XCTAssertEqual(up.status, 0, up.err)
        XCTAssertTrue(up.out.contains("0 done, 1 skipped, 0 failed"), up.out)
        XCTAssertTrue(up.err.contains("t1part2-mr: t1part2-mr/t1part2-mr_seg.dcm delivered to ORTHANC@127.0.0.1:\(orthanc.dicomPort)"), up.err)
        XCTAssertTrue(up.err.contains("t1part2-mr: t1part2-mr/t1part2-mr_seg.dcm delivered to \(stow)"), up.err)
        XCTAssertEqual(try orthanc.segInstanceCount(), 2)
        XCTAssertEqual(try web.segInstanceCount(), 1)
        let webSeries = try XCTUnwrap(try web.segSeries().first)
        let webStudy = try web.json("/studies/\(try XCTUnwrap(webSeries["ParentStudy"] as? String))") as? [String: Any]
        XCTAssertEqual((webStudy?["MainDicomTags"] as? [String: Any])?["StudyInstanceUID"] as? String, source.studyInstanceUID)
        let again = try UniverSegBinary.run(arguments)
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertFalse(again.err.contains("delivered"), again.err)
        XCTAssertEqual(try orthanc.segInstanceCount(), 2)
        XCTAssertEqual(try web.segInstanceCount(), 1)
    }

    /// A small pipeline on the tissue study: one target, support size 2 (the random test weights).
    func pipeline(inputs: String, listen: String?, outputs: String, orthancPort: UInt16, extra: String,
                  stow: String = "") -> String {
        """
        version: 1
        name: orthanc-round-trip
        inputs:
          folder: \(inputs)
          format: dicom
          \(listen ?? "")
        support: {library: \(Self.repo.appendingPathComponent("SampleData/support/t1-tissue").path)}
        targets: [{name: tissue, value: 1, labels: [6]}]
        model: {support_size: 2, ensemble: 1, seed: 1}
        outputs:
          folder: \(outputs)
          writers: [dicom-seg, report]
          send: [{host: 127.0.0.1, port: \(orthancPort), called_aet: ORTHANC, calling_aet: UNIVERSEG, timeout: 10s}]
        \(stow)
        \(extra)
        """
    }

    func wait(_ what: String, timeout: TimeInterval, until condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? condition()) == true { return }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTFail("timed out after \(Int(timeout)) s waiting until \(what)")
        throw CancellationError()
    }
}

/// An Orthanc process with its own configuration and storage in `folder`: DICOM and HTTP on free loopback ports,
/// remote access off, no plugins. Stopped (SIGTERM, then SIGKILL) by its PID.
final class OrthancServer {
    let executable: URL
    let folder: URL
    let dicomPort = freeLoopbackPort()
    let httpPort = freeLoopbackPort()
    private var process: BackgroundProcess?

    static let dicomWebPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"

    static func executable() -> URL? {
        for candidate in ["/usr/sbin/Orthanc", "/usr/bin/Orthanc", "/usr/local/bin/Orthanc"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return URL(fileURLWithPath: candidate)
        }
        return nil
    }

    /// `dicomWeb`: load Debian's DICOMweb plugin (orthanc-dicomweb), serving STOW-RS at /dicom-web/.
    init(executable: URL, folder: URL, dicomWeb: Bool = false) throws {
        self.executable = executable
        self.folder = folder
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("storage"), withIntermediateDirectories: true)
        var configuration: [String: Any] = [
            "Name": "universeg-test", "DicomAet": "ORTHANC", "DicomPort": Int(dicomPort), "HttpPort": Int(httpPort),
            "StorageDirectory": folder.appendingPathComponent("storage").path,
            "IndexDirectory": folder.appendingPathComponent("storage").path,
            "RemoteAccessAllowed": false, "AuthenticationEnabled": false, "Plugins": [String](),
            "DicomCheckCalledAet": true, "DicomAlwaysAllowStore": true, "HttpServerEnabled": true,
            "DicomServerEnabled": true, "StorageCompression": false,
        ]
        if dicomWeb {
            configuration["Plugins"] = [Self.dicomWebPlugin]
            configuration["DicomWeb"] = ["Enable": true, "Root": "/dicom-web/"]
        }
        try JSONSerialization.data(withJSONObject: configuration, options: [.prettyPrinted, .sortedKeys])
            .write(to: folder.appendingPathComponent("orthanc.json"))
    }

    /// Starts Orthanc and waits until its REST API answers.
    func start() throws {
        process = try BackgroundProcess(executable, [folder.appendingPathComponent("orthanc.json").path],
                                        log: folder.appendingPathComponent("orthanc.log"))
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? json("/system")) != nil { return }
            Thread.sleep(forTimeInterval: 0.3)
        }
        throw NSError(domain: "Orthanc", code: 1, userInfo: [NSLocalizedDescriptionKey: "Orthanc did not start: \(process?.output ?? "")"])
    }

    func stop() {
        process?.stop()
        process = nil
    }

    /// GET on the REST API (127.0.0.1), decoded as JSON.
    func json(_ path: String) throws -> Any {
        let url = URL(string: "http://127.0.0.1:\(httpPort)\(path)")!
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: url) { data, response, error in
            box.set(data: data, status: (response as? HTTPURLResponse)?.statusCode, error: error)
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + 10) == .success else { throw URLError(.timedOut) }
        guard let data = box.data, box.status == 200 else { throw box.error ?? URLError(.badServerResponse) }
        return try JSONSerialization.jsonObject(with: data)
    }

    /// Every series whose Modality is SEG, expanded.
    func segSeries() throws -> [[String: Any]] {
        let series = try json("/series?expand") as? [[String: Any]] ?? []
        return series.filter { ($0["MainDicomTags"] as? [String: Any])?["Modality"] as? String == "SEG" }
    }

    func segInstanceCount() throws -> Int {
        try segSeries().reduce(0) { $0 + (($1["Instances"] as? [String])?.count ?? 0) }
    }
}

final class ResponseBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var data: Data?
    private(set) var status: Int?
    private(set) var error: Error?

    func set(data: Data?, status: Int?, error: Error?) {
        lock.lock()
        (self.data, self.status, self.error) = (data, status, error)
        lock.unlock()
    }
}

/// A child process with its output in a log file; stopped by its PID (SIGTERM, SIGKILL after 20 s), or killed.
final class BackgroundProcess {
    let process = Process()
    let log: URL

    init(_ executable: URL, _ arguments: [String], log: URL) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = log.deletingLastPathComponent()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// SIGKILL: no chance to clean up, as a crash or a power-off of the process would leave things.
    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// DCMTK's command-line tools and free loopback ports.
enum Tool {
    static func exists(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }

    /// Runs a tool from PATH; its exit status and its stdout and stderr together (through a file).
    static func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-tool-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let child = try BackgroundProcess(URL(fileURLWithPath: "/usr/bin/env"), [name] + arguments, log: log)
        child.process.waitUntilExit()
        return (child.process.terminationStatus, child.output)
    }

}
