import DicomNetwork
import Foundation
import TestPorts
import VolumeIO
import XCTest

/// The listener against DCMTK's own storescu/echoscu as the peer, on 127.0.0.1.
final class DicomListenerTests: XCTestCase {
    var inbox: URL!
    let events = EventLog()

    override func setUpWithError() throws {
        try XCTSkipUnless(NetworkTestSupport.hasTool("storescu") && NetworkTestSupport.hasTool("echoscu"),
                          "DCMTK's storescu/echoscu are not installed (apt-get install dcmtk; scripts/install-deps.sh does)")
        inbox = try NetworkTestSupport.scratchFolder("inbox")
    }

    override func tearDownWithError() throws {
        if let inbox { try? FileManager.default.removeItem(at: inbox) }
    }

    func startListener(allowed: [String] = [], port: UInt16 = freeLoopbackPort()) throws -> DicomListener {
        let settings = ListenerSettings(port: port, aeTitle: "UNIVERSEG", allowedCallingAETitles: allowed, inbox: inbox,
                                        transferSyntaxes: DicomReader.decodableTransferSyntaxUIDs, timeoutSeconds: 10)
        let events = self.events
        return try DicomListener(settings) { events.add(refused: $0.refused, message: $0.message) }
    }

    func store(_ files: [String], to listener: DicomListener, callingAE: String = "MODALITY",
               calledAE: String = "UNIVERSEG", extra: [String] = []) throws -> (status: Int32, output: String) {
        try NetworkTestSupport.runTool("storescu", extra + ["-aet", callingAE, "-aec", calledAE, "127.0.0.1",
                                                            String(listener.settings.port)]
                                                   + files.map { NetworkTestSupport.fixture($0).path })
    }

    /// A storescu association profile "Sender" offering each "SOPClass\\TransferSyntax" (DCMTK names) in a
    /// presentation context of its own, written beside the scratch inbox and removed after the test.
    func associationProfile(_ contexts: [String]) throws -> URL {
        let url = inbox.deletingLastPathComponent().appendingPathComponent("profile-\(UUID().uuidString).cfg")
        var text = "[[TransferSyntaxes]]\n"
        for (i, context) in contexts.enumerated() {
            text += "[TS\(i)]\nTransferSyntax1 = \(context.split(separator: "\\")[1])\n"
        }
        text += "[[PresentationContexts]]\n[Contexts]\n"
        for (i, context) in contexts.enumerated() {
            text += "PresentationContext\(i + 1) = \(context.split(separator: "\\")[0])\\TS\(i)\n"
        }
        text += "[[Profiles]]\n[Sender]\nPresentationContexts = Contexts\n"
        try text.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testFilesEachInstanceAsStudySeriesSOPBeforeAcknowledging() throws {
        let listener = try startListener()
        defer { listener.stop() }
        // As a PACS offers them: each SOP class and transfer syntax in a context of its own, JPEG kept as sent.
        let profile = try associationProfile(["MRImageStorage\\LittleEndianExplicit",
                                              "SecondaryCaptureImageStorage\\JPEGLossless:Non-hierarchical-1stOrderPrediction",
                                              "SecondaryCaptureImageStorage\\JPEGExtended:Process2+4"])
        let sent = try store(["MR_small.dcm", "JPEG-LL.dcm", "JPGExtended.dcm"], to: listener,
                             extra: ["-xf", profile.path, "Sender"])
        XCTAssertEqual(sent.status, 0, sent.output)

        // storescu has its answers, so every instance is already in place, under its own UIDs.
        let filed = NetworkTestSupport.files(under: inbox)
        XCTAssertEqual(filed.filter { $0.hasPrefix(".incoming/") }, [], "no temporary left behind")
        let instances = filed.filter { !$0.hasPrefix(".") }
        XCTAssertEqual(instances.count, 3, "\(filed)")
        for relative in instances {
            let parts = relative.split(separator: "/").map(String.init)
            XCTAssertEqual(parts.count, 3, relative)
            let url = inbox.appendingPathComponent(relative)
            XCTAssertEqual(try DicomSender.sopInstanceUID(of: url) + ".dcm", parts[2])
            let scan = DicomReader.scan(url)
            XCTAssertEqual(scan.skipped.map(\.description), [])
            XCTAssertEqual(scan.series.first?.studyInstanceUID, parts[0])
            XCTAssertEqual(scan.series.first?.seriesInstanceUID, parts[1])
        }
        // The JPEG instances kept their transfer syntax and still decode.
        let volumes = DicomReader.readAll(inbox)
        XCTAssertEqual(volumes.failures.map(\.description), [])
        XCTAssertEqual(events.refusals, [])
        // One line for the association, once it ended (just after storescu saw the release).
        let studies = Set(instances.map { String($0.split(separator: "/")[0]) }).sorted().joined(separator: ", ")
        let deadline = Date().addingTimeInterval(5)
        while events.received.isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertEqual(events.received, ["received 3 instances from 'MODALITY' (127.0.0.1) into \(studies)"])
    }

    func testRefusesNonImageClassesInOneLine() throws {
        let listener = try startListener()
        defer { listener.stop() }
        // Without -R, storescu offers every storage class it knows: the non-image ones are refused in one line.
        let sent = try store(["MR_small.dcm"], to: listener)
        XCTAssertEqual(sent.status, 0, sent.output)
        XCTAssertEqual(events.refusals.count, 1, "\(events.refusals)")
        XCTAssertTrue(events.refusals.allSatisfy { $0.contains("SOP classes this listener does not keep") && $0.contains("more") },
                      "\(events.refusals)")
    }

    func testRefusesCallingAETitlesNotListed() throws {
        let listener = try startListener(allowed: ["PACS", "CT1"])
        defer { listener.stop() }
        let refused = try store(["MR_small.dcm"], to: listener, callingAE: "INTRUDER")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(NetworkTestSupport.files(under: inbox), [])
        XCTAssertTrue(events.refusals.contains { $0.contains("calling AE title 'INTRUDER' is not in allowed_calling_aets") },
                      "\(events.refusals)")

        let allowed = try store(["MR_small.dcm"], to: listener, callingAE: "CT1")
        XCTAssertEqual(allowed.status, 0, allowed.output)
        XCTAssertEqual(NetworkTestSupport.files(under: inbox).filter { !$0.hasPrefix(".") }.count, 1)
    }

    func testRefusesAssociationsCallingAnotherAETitle() throws {
        let listener = try startListener()
        defer { listener.stop() }
        let refused = try store(["MR_small.dcm"], to: listener, calledAE: "SOMEONE")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(NetworkTestSupport.files(under: inbox), [])
        XCTAssertTrue(events.refusals.contains { $0.contains("it called AE title 'SOMEONE'") }, "\(events.refusals)")
    }

    func testRefusesATransferSyntaxTheReadersCannotDecodeAtAssociationTime() throws {
        XCTAssertFalse(DicomReader.decodableTransferSyntaxUIDs.contains("1.2.840.10008.1.2.4.100"), "MPEG-2 video")
        for uid in ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.70",
                    "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90"] {
            XCTAssertTrue(DicomReader.decodableTransferSyntaxUIDs.contains(uid), uid)
        }
        XCTAssertEqual(DicomReader.decodableTransferSyntaxUIDs.first, "1.2.840.10008.1.2.1", "Explicit VR Little Endian preferred")
        let listener = try startListener()
        defer { listener.stop() }
        // A sender offering MR Image Storage in MPEG-2 video alone (a syntax DCMTK names but the readers cannot
        // decode; it cannot transcode).
        let profile = try associationProfile(["MRImageStorage\\1.2.840.10008.1.2.4.100"])
        let refused = try store(["MR_small_jp2klossless.dcm"], to: listener, extra: ["-xf", profile.path, "Sender"])
        XCTAssertNotEqual(refused.status, 0, refused.output)
        XCTAssertEqual(NetworkTestSupport.files(under: inbox), [])
        XCTAssertTrue(events.refusals.contains {
            $0.contains("MPEG2") && $0.contains("the readers cannot decode that transfer syntax")
        }, "\(events.refusals)")
    }

    /// DCMTK's listener switches dcmdata's input correction off for the whole process; the SEG writer in the same
    /// process (a `watch` with `inputs.listen`) still writes over a source whose UIDs carry padding.
    func testASegIsWrittenInTheProcessOfARunningListener() throws {
        let listener = try startListener()
        defer { listener.stop() }
        XCTAssertEqual(try store(["MR_small.dcm"], to: listener).status, 0)
        let folder = NetworkTestSupport.syntaxes.deletingLastPathComponent().appendingPathComponent("ct-series-shuffled")
        let series = try XCTUnwrap(DicomReader.scan(folder).series.first)
        let image = try DicomReader.readVolume(series)
        let labels = image.withVoxels(image.voxels.indices.map { Int32($0 % 7 == 0 ? 1 : 0) })
        let url = inbox.deletingLastPathComponent().appendingPathComponent("seg-\(UUID().uuidString).dcm")
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertNoThrow(try DicomSegWriter.write(labels, segments: [DicomSegSegment(value: 1, label: "dots")], to: url))
    }

    func testAnswersVerification() throws {
        let listener = try startListener(allowed: ["PACS"])
        defer { listener.stop() }
        let echo = try NetworkTestSupport.runTool("echoscu", ["-aet", "PACS", "-aec", "UNIVERSEG", "127.0.0.1",
                                                              String(listener.settings.port)])
        XCTAssertEqual(echo.status, 0, echo.output)
    }

    func testRemovesUnacknowledgedLeftoversOnStartAndStopsPromptly() throws {
        let incoming = inbox.appendingPathComponent(".incoming")
        try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
        try Data("half an instance".utf8).write(to: incoming.appendingPathComponent(".tmp-1.2.3.dcm"))
        let listener = try startListener()
        XCTAssertEqual(NetworkTestSupport.files(under: inbox), [])
        let started = Date()
        listener.stop()
        XCTAssertLessThan(Date().timeIntervalSince(started), 3, "an idle listener stops within about a second")
        listener.stop()
    }

    func testAPortInUseIsAClearError() throws {
        let listener = try startListener()
        defer { listener.stop() }
        XCTAssertThrowsError(try startListener(port: listener.settings.port)) { error in
            guard case DicomNetworkError.cannotListen(let port, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(port, listener.settings.port)
            XCTAssertTrue("\(error)".hasPrefix("DICOM port \(port): error: "), "\(error)")
        }
    }
}
