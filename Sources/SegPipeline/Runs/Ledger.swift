import Foundation

/// One line of the run ledger: a study that finished (or failed) under a given definition.
public struct LedgerEntry: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case done, failed }

    public var study: String
    public var status: Status
    /// The study's file fingerprint when it was processed: a changed input is processed again.
    public var inputFingerprint: String
    /// The definition's fingerprint: a changed definition processes everything again.
    public var pipelineFingerprint: String
    /// Output files, relative to the output folder.
    public var outputs: [String]
    public var reason: String?
    public var finishedAt: String
    /// The model that made the outputs (`Segmenter.modelDescription`, with a hash of the weights): other weights
    /// process the study again.
    public var model: String?

    public init(study: String, status: Status, inputFingerprint: String, pipelineFingerprint: String,
                outputs: [String], reason: String?, finishedAt: String, model: String? = nil) {
        self.study = study
        self.status = status
        self.inputFingerprint = inputFingerprint
        self.pipelineFingerprint = pipelineFingerprint
        self.outputs = outputs
        self.reason = reason
        self.finishedAt = finishedAt
        self.model = model
    }
}

/// A ledger line saying that a destination acknowledged (C-STORE success or warning) one output instance of a
/// study: `{"kind": "delivery", "study": ..., "destination": "PACS@host:port", "file": "a/b_seg.dcm",
/// "sopInstanceUID": ..., "deliveredAt": ...}`. Keyed by destination and SOP Instance UID, so an instance is never
/// sent again to a destination that took it, while a recomputed SEG (a new instance) is.
public struct DeliveryRecord: Codable, Sendable, Equatable {
    static let kindName = "delivery"

    public var kind: String
    public var study: String
    /// `DicomDestination.description`: CALLED_AET@host:port.
    public var destination: String
    /// The output file sent, relative to the output folder.
    public var file: String
    public var sopInstanceUID: String
    public var deliveredAt: String

    public init(study: String, destination: String, file: String, sopInstanceUID: String, deliveredAt: String) {
        kind = Self.kindName
        self.study = study
        self.destination = destination
        self.file = file
        self.sopInstanceUID = sopInstanceUID
        self.deliveredAt = deliveredAt
    }
}

/// An append-only JSON-lines file in the output folder (`ledger.jsonl`) recording finished studies, so a rerun
/// skips them. Lines are appended only after every output of the study was renamed into place; a line cut short by
/// a crash does not parse and is ignored, so the study is simply done again.
public struct Ledger: Sendable {
    public let url: URL

    public init(outputFolder: URL) {
        url = outputFolder.appendingPathComponent("ledger.jsonl")
    }

    /// The latest entry per study; unreadable lines are skipped.
    public func entries() -> [String: LedgerEntry] {
        guard let data = try? Data(contentsOf: url) else { return [:] }
        var latest: [String: LedgerEntry] = [:]
        let decoder = JSONDecoder()
        for line in data.split(separator: UInt8(ascii: "\n")) {
            if let entry = try? decoder.decode(LedgerEntry.self, from: Data(line)) { latest[entry.study] = entry }
        }
        return latest
    }

    /// Whether `study` needs work: `skip` is set when it is done (with when), else `reason` says why it runs.
    /// `model`: the model this run would use, or nil when not known (a dry run that did not load it).
    public func decision(for study: StudyInput, pipelineFingerprint: String, model: String?,
                         entries: [String: LedgerEntry], outputFolder: URL) -> (skip: String?, reason: String) {
        guard let entry = entries[study.name] else { return (nil, "new") }
        if entry.status == .failed { return (nil, "failed last time (\(entry.reason ?? "no reason recorded"))") }
        if entry.pipelineFingerprint != pipelineFingerprint { return (nil, "the pipeline definition changed") }
        if let model, entry.model != model { return (nil, "the model changed") }
        if entry.inputFingerprint != study.fingerprint { return (nil, "its input files changed") }
        let missing = entry.outputs.filter {
            !FileManager.default.fileExists(atPath: outputFolder.appendingPathComponent($0).path)
        }
        if let first = missing.first { return (nil, "output \(first) is missing") }
        return ("done at \(entry.finishedAt) (ledger; --force redoes it)", "")
    }

    /// Why `study` needs no work, or nil when it must be processed.
    public func skipReason(for study: StudyInput, pipelineFingerprint: String, model: String?,
                           entries: [String: LedgerEntry], outputFolder: URL) -> String? {
        decision(for: study, pipelineFingerprint: pipelineFingerprint, model: model, entries: entries,
                 outputFolder: outputFolder).skip
    }

    /// Appends one entry as a single write, then syncs it to disk.
    public func append(_ entry: LedgerEntry) throws { try appendLine(entry) }

    /// The deliveries recorded so far (lines with `"kind": "delivery"`; the study entries above never decode as one,
    /// nor these as a study entry).
    public func deliveries() -> [DeliveryRecord] {
        guard let data = try? Data(contentsOf: url) else { return [] }
        let decoder = JSONDecoder()
        return data.split(separator: UInt8(ascii: "\n")).compactMap {
            (try? decoder.decode(DeliveryRecord.self, from: Data($0))).flatMap { $0.kind == DeliveryRecord.kindName ? $0 : nil }
        }
    }

    /// Appends one delivery record as a single write, then syncs it to disk.
    public func append(_ record: DeliveryRecord) throws { try appendLine(record) }

    private func appendLine(_ value: some Encodable) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(value)
        line.append(UInt8(ascii: "\n"))
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw PipelineError.writeFailed(url.path, reason: "cannot create the ledger")
            }
        }
        do {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            // A line torn by a crash is closed first, so it cannot swallow this one.
            if try handle.seekToEnd() > 0 {
                let reader = try FileHandle(forReadingFrom: url)
                defer { try? reader.close() }
                try reader.seek(toOffset: try reader.seekToEnd() - 1)
                if reader.readData(ofLength: 1) != Data([UInt8(ascii: "\n")]) { line.insert(UInt8(ascii: "\n"), at: 0) }
            }
            try handle.write(contentsOf: line)
            try handle.synchronize()
        } catch {
            throw PipelineError.writeFailed(url.path, reason: error.localizedDescription)
        }
    }
}

enum Clock {
    static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
