import DicomNetwork
import Foundation
import Testing
import TestPorts
import VolumeIO
@testable import SegPipeline
#if canImport(Glibc)
import Glibc
#endif

/// Delivery of committed SEGs to `outputs.send` destinations, against real Storage SCPs (DicomNetwork's listener)
/// on 127.0.0.1: what is due, retry after a failure, and never a second send of what a destination acknowledged.
@Suite(.serialized) struct DeliveryTests {
    static let seg = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("VolumeIOTests/Fixtures/dicom/seg/ct-series-shuffled-seg.dcm")

    /// An output folder whose ledger says `done` studies are done (each with a copy of the SEG fixture) and `failed`
    /// ones failed.
    func outputFolder(done: [String], failed: [String] = []) throws -> URL {
        let folder = try temporaryFolder()
        let ledger = Ledger(outputFolder: folder)
        for study in done {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(study), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Self.seg, to: folder.appendingPathComponent("\(study)/\(study)_seg.dcm"))
            try ledger.append(LedgerEntry(study: study, status: .done, inputFingerprint: "f", pipelineFingerprint: "p",
                                          outputs: ["\(study)/\(study)_seg.dcm", "\(study)/\(study)_report.json"],
                                          reason: nil, finishedAt: "2026-01-01T00:00:00Z"))
        }
        for study in failed {
            try ledger.append(LedgerEntry(study: study, status: .failed, inputFingerprint: "f", pipelineFingerprint: "p",
                                          outputs: [], reason: "x", finishedAt: "2026-01-01T00:00:00Z"))
        }
        return folder
    }

    /// A Storage SCP that counts what it files.
    final class PACS: Sendable {
        let inbox: URL
        let listener: DicomListener
        let counter = Counter()

        init(port: UInt16, aeTitle: String = "PACS") throws {
            inbox = try temporaryFolder("pacs")
            let counter = self.counter
            // A PACS keeps SEGs (what is sent here), unlike a pipeline's listener.
            listener = try DicomListener(ListenerSettings(port: port, aeTitle: aeTitle, inbox: inbox,
                                                          transferSyntaxes: DicomReader.decodableTransferSyntaxUIDs,
                                                          sopClasses: ["1.2.840.10008.5.1.4.1.1.66.4"])) {
                // "received N instance(s) from ...", once per association, as it ends.
                if !$0.refused, let n = Int($0.message.split(separator: " ").dropFirst().first ?? "") { counter.add(n) }
            }
        }

        /// Instances stored so far, waiting (up to 20 s: the machine may be loaded) until there are `expected` and then 0.5 s more for any
        /// extra: the listener reports an association just after the sender saw it released.
        func received(_ expected: Int) -> Int {
            let deadline = Date().addingTimeInterval(20)
            while counter.value < expected && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            Thread.sleep(forTimeInterval: 0.5)
            return counter.value
        }

        func stop() {
            listener.stop()
            try? FileManager.default.removeItem(at: inbox)
        }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add(_ n: Int) { lock.lock(); count += n; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return count }
    }

    func delivery(_ folder: URL, _ destinations: [DicomDestination]) -> Delivery {
        delivery(folder, destinations.map(Delivery.Destination.dimse))
    }

    func delivery(_ folder: URL, _ destinations: [Delivery.Destination]) -> Delivery {
        var delivery = Delivery(spec: PipelineSpec(name: "t", inputs: InputSpec(folder: folder), support: SupportSpec(libraries: []),
                                                   targets: [], outputs: OutputSpec(folder: folder),
                                                   watch: WatchSpec(doneFolder: folder, failedFolder: folder)))
        delivery.destinations = destinations
        return delivery
    }

    func destination(_ port: UInt16, _ aeTitle: String = "PACS") -> DicomDestination {
        DicomDestination(host: "127.0.0.1", port: port, calledAETitle: aeTitle, callingAETitle: "UNIVERSEG", timeoutSeconds: 5)
    }

    @Test func aDestinationDownIsRetriedAndWhatItTookIsNeverSentAgain() throws {
        let folder = try outputFolder(done: ["a", "b"], failed: ["c"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = freeLoopbackPort()
        let deliver = delivery(folder, [destination(port)])

        // Down: both SEGs are written, not delivered, and nothing is recorded.
        let down = deliver.deliver()
        #expect(down.delivered == [])
        #expect(down.notDelivered.map(\.study) == ["a", "b"])
        #expect(down.notDelivered.allSatisfy { $0.problem?.hasPrefix("no association with PACS@127.0.0.1:\(port): ") ?? false },
                "\(down.notDelivered)")
        #expect(Ledger(outputFolder: folder).deliveries() == [])

        // Up: both are sent once and recorded; the failed study has nothing to send.
        let pacs = try PACS(port: port)
        defer { pacs.stop() }
        let up = deliver.deliver()
        #expect(up.delivered.map(\.study) == ["a", "b"])
        #expect(up.notDelivered == [])
        #expect(pacs.received(2) == 2)
        let records = Ledger(outputFolder: folder).deliveries()
        #expect(records.map(\.study) == ["a", "b"])
        #expect(records.allSatisfy { $0.destination == "PACS@127.0.0.1:\(port)" && $0.file == "\($0.study)/\($0.study)_seg.dcm" })
        // The study entries still read as before (delivery lines do not disturb them).
        #expect(Ledger(outputFolder: folder).entries().keys.sorted() == ["a", "b", "c"])

        // Again: nothing is due, nothing is sent.
        let again = deliver.deliver()
        #expect(again.items == [])
        #expect(pacs.received(2) == 2)
    }

    @Test func deliveryIsRecordedPerDestination() throws {
        let folder = try outputFolder(done: ["a"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let upPort = freeLoopbackPort(), downPort = freeLoopbackPort()
        let pacs = try PACS(port: upPort)
        defer { pacs.stop() }
        let deliver = delivery(folder, [destination(upPort), destination(downPort, "ARCHIVE")])

        let first = deliver.deliver()
        #expect(first.delivered.map(\.destination) == ["PACS@127.0.0.1:\(upPort)"])
        #expect(first.notDelivered.map(\.destination) == ["ARCHIVE@127.0.0.1:\(downPort)"])

        let archive = try PACS(port: downPort, aeTitle: "ARCHIVE")
        defer { archive.stop() }
        let second = deliver.deliver()
        #expect(second.delivered.map(\.destination) == ["ARCHIVE@127.0.0.1:\(downPort)"])
        #expect(second.notDelivered == [])
        #expect(pacs.received(1) == 1 && archive.received(1) == 1)
    }

    @Test func aRecomputedSEGIsANewInstanceAndIsSent() throws {
        let folder = try outputFolder(done: ["a"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = freeLoopbackPort()
        let pacs = try PACS(port: port)
        defer { pacs.stop() }
        let deliver = delivery(folder, [destination(port)])
        #expect(deliver.deliver().delivered.count == 1)

        // The study is segmented again: a new SEG (new SOP Instance UID) replaces the file.
        let seg = folder.appendingPathComponent("a/a_seg.dcm")
        let uid = try DicomSender.sopInstanceUID(of: seg)
        var bytes = try Data(contentsOf: seg)
        let old = Data(uid.utf8), new = Data(String(uid.dropLast()).appending(uid.last == "9" ? "8" : "9").utf8)
        let range = try #require(bytes.range(of: old))
        bytes.replaceSubrange(range, with: new)
        if let meta = bytes.range(of: old) { bytes.replaceSubrange(meta, with: new) }
        try bytes.write(to: seg)
        #expect(try DicomSender.sopInstanceUID(of: seg) != uid)

        let report = deliver.deliver()
        #expect(report.delivered.count == 1)
        #expect(pacs.received(2) == 2)
    }
}

