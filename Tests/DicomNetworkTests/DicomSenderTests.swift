import DicomNetwork
import Foundation
import TestPorts
import VolumeIO
import XCTest

/// The sender against a real Storage SCP: our own listener (tested against storescu in DicomListenerTests).
final class DicomSenderTests: XCTestCase {
    func testDeliversAndReportsEachInstanceAcknowledged() throws {
        let inbox = try NetworkTestSupport.scratchFolder("pacs")
        defer { try? FileManager.default.removeItem(at: inbox) }
        let port = freeLoopbackPort()
        let pacs = try DicomListener(ListenerSettings(port: port, aeTitle: "PACS", allowedCallingAETitles: ["UNIVERSEG"],
                                                      inbox: inbox, transferSyntaxes: DicomReader.decodableTransferSyntaxUIDs))
        defer { pacs.stop() }
        let files = [NetworkTestSupport.fixture("MR_small.dcm"), NetworkTestSupport.fixture("JPEG-LL.dcm")]
        let destination = DicomDestination(host: "127.0.0.1", port: port, calledAETitle: "PACS", callingAETitle: "UNIVERSEG",
                                           timeoutSeconds: 10)
        XCTAssertEqual(destination.description, "PACS@127.0.0.1:\(port)")
        let results = try DicomSender.send(files, to: destination)
        XCTAssertEqual(results.map(\.file), files)
        XCTAssertEqual(results.map(\.status), [0, 0])
        XCTAssertTrue(results.allSatisfy(\.acknowledged))
        let filed = NetworkTestSupport.files(under: inbox).filter { !$0.hasPrefix(".") }.map { ($0 as NSString).lastPathComponent }
        XCTAssertEqual(Set(filed), Set(try files.map { try DicomSender.sopInstanceUID(of: $0) + ".dcm" }))
    }

    func testADestinationThatRefusesTheCallingAETitleDeliversNothing() throws {
        let inbox = try NetworkTestSupport.scratchFolder("pacs")
        defer { try? FileManager.default.removeItem(at: inbox) }
        let port = freeLoopbackPort()
        let pacs = try DicomListener(ListenerSettings(port: port, aeTitle: "PACS", allowedCallingAETitles: ["SOMEONE"],
                                                      inbox: inbox, transferSyntaxes: DicomReader.decodableTransferSyntaxUIDs))
        defer { pacs.stop() }
        let destination = DicomDestination(host: "127.0.0.1", port: port, calledAETitle: "PACS", callingAETitle: "UNIVERSEG")
        XCTAssertThrowsError(try DicomSender.send([NetworkTestSupport.fixture("MR_small.dcm")], to: destination)) { error in
            guard case DicomNetworkError.notDelivered(let name, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, destination.description)
        }
        XCTAssertEqual(NetworkTestSupport.files(under: inbox).filter { !$0.hasPrefix(".") }, [])
    }

    func testADestinationThatIsDownIsNotDelivered() throws {
        let destination = DicomDestination(host: "127.0.0.1", port: freeLoopbackPort(), calledAETitle: "PACS",
                                           callingAETitle: "UNIVERSEG", timeoutSeconds: 5)
        let started = Date()
        XCTAssertThrowsError(try DicomSender.send([NetworkTestSupport.fixture("MR_small.dcm")], to: destination)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(destination.description): error: not delivered: "), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "a refused connection fails at once")
    }

    func testAStowServiceThatIsDownIsNotDelivered() throws {
        let url = URL(string: "http://127.0.0.1:\(freeLoopbackPort())/dicom-web")!
        let destination = StowDestination(url: url, timeoutSeconds: 5)
        XCTAssertEqual(destination.description, "STOW \(url.absoluteString)")
        XCTAssertThrowsError(try StowSender.send([NetworkTestSupport.fixture("MR_small.dcm")], to: destination)) { error in
            XCTAssertTrue("\(error)".hasPrefix("STOW \(url.absoluteString): error: not delivered: "), "\(error)")
        }
    }

    func testAFileThatIsNotDICOMIsNamed() throws {
        let text = NetworkTestSupport.repository.appendingPathComponent("Tests/VolumeIOTests/Fixtures/dicom/bad/not-dicom.txt")
        let destination = DicomDestination(host: "127.0.0.1", port: freeLoopbackPort(), calledAETitle: "PACS",
                                           callingAETitle: "UNIVERSEG")
        XCTAssertThrowsError(try DicomSender.send([text], to: destination)) { error in
            XCTAssertTrue("\(error)".contains(text.path), "\(error)")
        }
    }

    func testAETitleRule() {
        XCTAssertNil(AETitle.problem(in: "UNIVERSEG"))
        XCTAssertNil(AETitle.problem(in: "ORTHANC_1"))
        XCTAssertNotNil(AETitle.problem(in: ""))
        XCTAssertNotNil(AETitle.problem(in: "   "))
        XCTAssertNotNil(AETitle.problem(in: "SEVENTEEN_CHARS_X"))
        XCTAssertNotNil(AETitle.problem(in: "BACK\\SLASH"))
        XCTAssertNotNil(AETitle.problem(in: "TAB\tHERE"))
    }
}
