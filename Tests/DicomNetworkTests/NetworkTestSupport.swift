import Foundation
import TestPorts
#if canImport(Glibc)
import Glibc
#endif

/// Paths and helpers the network tests share: committed DICOM fixtures, free loopback ports, DCMTK's command-line
/// tools (storescu, echoscu) run as a peer would run them.
enum NetworkTestSupport {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let syntaxes = repository.appendingPathComponent("Tests/VolumeIOTests/Fixtures/dicom/syntaxes")

    static func fixture(_ name: String) -> URL { syntaxes.appendingPathComponent(name) }

    static func scratchFolder(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }


    /// Whether a DCMTK tool is on PATH.
    static func hasTool(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }

    /// Runs a tool found on PATH and returns its exit status and output (stdout and stderr together, via a file so a
    /// chatty child never blocks on a pipe).
    static func runTool(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-tool-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [name] + arguments
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: log), as: UTF8.self))
    }

    /// Every regular file under `folder`, relative to it, sorted (hidden ones included: the listener's temporaries).
    static func files(under folder: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(relative).path, isDirectory: &isFolder),
               !isFolder.boolValue {
                found.append(relative)
            }
        }
        return found.sorted()
    }
}

/// Collects a listener's events from its thread.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [(refused: Bool, message: String)] = []

    func add(refused: Bool, message: String) {
        lock.lock()
        events.append((refused, message))
        lock.unlock()
    }

    var refusals: [String] {
        lock.lock()
        defer { lock.unlock() }
        return events.filter(\.refused).map(\.message)
    }

    var received: [String] {
        lock.lock()
        defer { lock.unlock() }
        return events.filter { !$0.refused }.map(\.message)
    }
}
