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

/// Append-only JSON-lines files in the output folder recording finished studies, so a rerun skips them: one
/// writer per file (`ledger.jsonl` for a whole run or watch, `ledger-shard-K-of-N.jsonl` for shard K of N), so
/// records of concurrent shards never interleave, and every reader sees all of them. Lines are appended only after
/// every output of the study was renamed into place; a line cut short by a crash does not parse and is ignored, so
/// the study is simply done again.
public struct Ledger: Sendable {
    /// The file this run appends to.
    public let url: URL
    public var folder: URL { url.deletingLastPathComponent() }

    public init(outputFolder: URL, shard: Shard? = nil) {
        url = outputFolder.appendingPathComponent(shard.map { "ledger-\($0.fileTag).jsonl" } ?? "ledger.jsonl")
    }

    /// Every ledger file in the folder: this run's and every shard's.
    public func files() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0 == "ledger.jsonl" || ($0.hasPrefix("ledger-shard-") && $0.hasSuffix(".jsonl")) }
            .sorted().map { folder.appendingPathComponent($0) }
    }

    /// The latest entry per study over every ledger file (later lines of a file, then later `finishedAt`, win);
    /// unreadable lines are skipped.
    public func entries() -> [String: LedgerEntry] {
        var latest: [String: LedgerEntry] = [:]
        let decoder = JSONDecoder()
        for file in files() {
            guard let data = try? Data(contentsOf: file) else { continue }
            var fileLatest: [String: LedgerEntry] = [:]
            for line in data.split(separator: UInt8(ascii: "\n")) {
                if let entry = try? decoder.decode(LedgerEntry.self, from: Data(line)) { fileLatest[entry.study] = entry }
            }
            latest.merge(fileLatest) { old, new in new.finishedAt >= old.finishedAt ? new : old }
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

    /// The deliveries recorded so far in every ledger file (lines with `"kind": "delivery"`; the study entries above never decode as one,
    /// nor these as a study entry).
    public func deliveries() -> [DeliveryRecord] {
        let decoder = JSONDecoder()
        return files().flatMap { file in
            ((try? Data(contentsOf: file)) ?? Data()).split(separator: UInt8(ascii: "\n")).compactMap {
                (try? decoder.decode(DeliveryRecord.self, from: Data($0))).flatMap { $0.kind == DeliveryRecord.kindName ? $0 : nil }
            }
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

/// Timestamps as every record writes them: ISO 8601 in UTC, to the second.
enum Clock {
    static func timestamp(_ date: Date = Date()) -> String {
        formatter.string(from: date)
    }

    static func date(_ timestamp: String) -> Date? {
        formatter.date(from: timestamp)
    }

    private static var formatter: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter
    }
}
