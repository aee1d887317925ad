import DicomNetwork
import Diagnostics
import Foundation

/// Sends committed DICOM SEGs to the pipeline's destinations (`outputs.send`, `outputs.stow`) and records each acknowledgement in
/// the ledger, so that nothing a destination took is sent to it again, and whatever it did not take (down, refused)
/// is sent by the next pass: the next `run`, or `watch`'s next retry. Nothing is recomputed for it.
///
/// What is due: for every study whose latest ledger entry is done, its SEG output (on disk), for every destination
/// with no delivery record of that SEG's SOP Instance UID. A process killed between a destination's acknowledgement
/// and the ledger line sends that instance once more on the next pass (same SOP Instance UID, which a PACS stores
/// once); nothing else is ever sent twice.
public struct Delivery: Sendable {
    /// Where SEGs go: a DICOM peer (C-STORE) or a DICOMweb service (STOW-RS).
    public enum Destination: Sendable, Hashable, CustomStringConvertible {
        case dimse(DicomDestination)
        case stow(StowDestination)

        /// `PACS@host:104` or `STOW https://...`: the name in logs and in the ledger's delivery lines.
        public var description: String {
            switch self {
            case .dimse(let destination): destination.description
            case .stow(let destination): destination.description
            }
        }

        func send(_ files: [URL]) throws(DicomNetworkError) -> [StoreResult] {
            switch self {
            case .dimse(let destination): try DicomSender.send(files, to: destination)
            case .stow(let destination): try StowSender.send(files, to: destination)
            }
        }
    }

    public var outputFolder: URL
    public var destinations: [Destination]
    /// The end of the SEG outputs' names (`OutputSuffixes.dicomSeg`).
    public var segSuffix: String
    /// A shard of a split run delivers only its own studies' SEGs, and records them in its own ledger file, so two
    /// shards never send one SEG.
    public var shard: Shard?

    public init(spec: PipelineSpec, shard: Shard? = nil) {
        outputFolder = spec.outputs.folder
        destinations = spec.outputs.send.map(Destination.dimse) + spec.outputs.stow.map(Destination.stow)
        segSuffix = spec.outputs.suffixes.dicomSeg
        self.shard = shard
    }

    /// One SEG due at one destination.
    public struct Due: Sendable, Equatable {
        public var study: String
        /// Relative to the output folder.
        public var file: String
        public var sopInstanceUID: String
    }

    /// What one delivery pass did with one SEG at one destination.
    public struct Item: Sendable, Equatable {
        public var study: String
        public var file: String
        public var destination: String
        /// Why it was not delivered; nil when the destination acknowledged it.
        public var problem: String?
    }

    public struct Report: Sendable {
        public var items: [Item] = []
        public var delivered: [Item] { items.filter { $0.problem == nil } }
        public var notDelivered: [Item] { items.filter { $0.problem != nil } }
    }

    /// What each destination lacks now, in the order of `outputs.send` (what `run --dry-run` lists); reads the
    /// SEGs' SOP Instance UIDs, sends nothing.
    public func pending() -> [(destination: Destination, due: [Due])] {
        let due = due().due
        return destinations.compactMap { destination in due[destination].map { (destination, $0) } }
    }

    /// What each destination still lacks, per the ledger; SEGs that cannot be read are reported as not delivered.
    func due() -> (due: [Destination: [Due]], unreadable: [Item]) {
        let ledger = Ledger(outputFolder: outputFolder, shard: shard)
        let delivered = Set(ledger.deliveries().map { "\($0.destination) \($0.sopInstanceUID)" })
        var due: [Destination: [Due]] = [:]
        var unreadable: [Item] = []
        for entry in ledger.entries().values.sorted(by: { $0.study < $1.study })
        where entry.status == .done && shard?.owns(entry.study) ?? true {
            for file in entry.outputs where file.hasSuffix(segSuffix) {
                let url = outputFolder.appendingPathComponent(file)
                guard FileManager.default.fileExists(atPath: url.path) else { continue }
                let uid: String
                do {
                    uid = try DicomSender.sopInstanceUID(of: url)
                } catch {
                    unreadable += destinations.map {
                        Item(study: entry.study, file: file, destination: $0.description, problem: ErrorText.problem(error))
                    }
                    continue
                }
                for destination in destinations where !delivered.contains("\(destination.description) \(uid)") {
                    due[destination, default: []].append(Due(study: entry.study, file: file, sopInstanceUID: uid))
                }
            }
        }
        return (due, unreadable)
    }

    /// Sends what is due, one association (or STOW request) per destination, and records each acknowledgement.
    /// Blocking (network): run it on a lane of its own.
    public func deliver() -> Report {
        var report = Report()
        let (due, unreadable) = due()
        report.items += unreadable
        let ledger = Ledger(outputFolder: outputFolder, shard: shard)
        for destination in destinations {
            guard let instances = due[destination], !instances.isEmpty else { continue }
            let name = destination.description
            let results: [StoreResult]
            do {
                results = try destination.send(instances.map { outputFolder.appendingPathComponent($0.file) })
            } catch {
                // The console says "written, not delivered to DEST: " before it: the reason alone.
                var problem = ErrorText.problem(error)
                if case DicomNetworkError.notDelivered(_, let reason) = error { problem = reason }
                report.items += instances.map { Item(study: $0.study, file: $0.file, destination: name, problem: problem) }
                continue
            }
            for (instance, result) in zip(instances, results) {
                var item = Item(study: instance.study, file: instance.file, destination: name)
                if result.acknowledged {
                    do {
                        try ledger.append(DeliveryRecord(study: instance.study, destination: name, file: instance.file,
                                                         sopInstanceUID: instance.sopInstanceUID,
                                                         deliveredAt: Clock.timestamp()))
                    } catch {
                        item.problem = "delivered, but the ledger could not record it (it will be sent again): "
                            + ErrorText.problem(error)
                    }
                } else {
                    item.problem = "the destination did not store it (\(result.statusText))"
                }
                report.items.append(item)
            }
        }
        return report
    }
}
