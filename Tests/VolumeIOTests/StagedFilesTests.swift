import Foundation
import XCTest
@testable import VolumeIO

final class StagedFilesTests: XCTestCase {
    private func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("staged-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func testNothingAppearsUntilCommitThenEverything() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.txt"), b = dir.appendingPathComponent("sub/b.nii.gz")
        var files = StagedFiles()
        try files.stage(a) { try Data("A".utf8).write(to: $0) }
        try files.stage(b) { url in
            XCTAssertTrue(url.lastPathComponent.hasSuffix("b.nii.gz"))   // extension kept for format sniffing
            try Data("B".utf8).write(to: url)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: a.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: b.path))
        try files.commit()
        XCTAssertEqual(try String(contentsOf: a, encoding: .utf8), "A")
        XCTAssertEqual(try String(contentsOf: b, encoding: .utf8), "B")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["a.txt", "sub"])
    }

    /// A failed write keeps the previous outputs whole and leaves no temporary file behind.
    func testAFailedBatchKeepsThePreviousFilesAndLeavesNoTemporaries() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.txt"), b = dir.appendingPathComponent("b.txt")
        try Data("old A".utf8).write(to: a)
        try Data("old B".utf8).write(to: b)
        struct DiskFull: Error {}
        var files = StagedFiles()
        try files.stage(a) { try Data("new A".utf8).write(to: $0) }
        XCTAssertThrowsError(try files.stage(b) { url in
            try Data("half".utf8).write(to: url)
            throw DiskFull()
        })
        files.discard()
        XCTAssertEqual(try String(contentsOf: a, encoding: .utf8), "old A")
        XCTAssertEqual(try String(contentsOf: b, encoding: .utf8), "old B")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["a.txt", "b.txt"])
    }

    func testAFolderInTheWayStopsTheCommitBeforeAnyRename() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.txt"), b = dir.appendingPathComponent("b.txt")
        try FileManager.default.createDirectory(at: b, withIntermediateDirectories: true)
        var files = StagedFiles()
        try files.stage(a) { try Data("A".utf8).write(to: $0) }
        try files.stage(b) { try Data("B".utf8).write(to: $0) }
        XCTAssertThrowsError(try files.commit()) { XCTAssertTrue("\($0)".contains("b.txt is a folder"), "\($0)") }
        files.discard()
        XCTAssertFalse(FileManager.default.fileExists(atPath: a.path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["b.txt"])
    }
}
