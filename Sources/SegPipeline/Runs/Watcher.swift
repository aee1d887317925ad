import DicomNetwork
import Foundation
import VolumeIO

/// `universeg watch`: polls the input folder and processes each study once its files have stopped changing
/// (like Orthanc's stable-study event), then moves it to the done folder, or to the failed folder with
/// `NAME.reason.txt` beside it. Moving finished inputs is the one documented exception to "inputs are never modified".
///
/// Restart-safe: all state is on disk. A study still in the inbox is processed again after a restart, unless the
/// ledger says it was finished (killed between writing and moving), in which case it is only moved.
public struct Watcher: Sendable {
    public var graph: JobGraph

    public init(graph: JobGraph) {
        self.graph = graph
    }

    /// What the poller remembers about a study it has seen but not yet submitted.
    struct Sighting {
        var fingerprint: String
        var since: Date
    }

    /// Seconds between delivery attempts while a destination of `outputs.send` lacks something.
    public static let deliveryRetrySeconds: Double = 30

    /// Watches until `stop` returns true (checked every poll); then the studies being inferred finish and are moved,
    /// and those not yet at inference stay in the inbox for the next start.
    /// `onOutcome` sees each finished study after it was moved; `onDelivery` each delivery pass that did something
    /// (`outputs.send`: after studies finish, at start for what earlier runs left, and every
    /// `deliveryRetrySeconds` while something is not delivered); `onListenerEvent` the DICOM listener's events
    /// (`inputs.listen`), on the listener's thread.
    public func run(until stop: @escaping @Sendable () async -> Bool,
                    onOutcome: @escaping @Sendable (StudyOutcome) async -> Void = { _ in },
                    onDelivery: @escaping @Sendable (Delivery.Report) async -> Void = { _ in },
                    onListenerEvent: @escaping @Sendable (ListenerEvent) -> Void = { _ in }) async throws {
        let spec = graph.spec
        let lock = try OutputFolderLock(spec.outputs.folder) {   // creates the output folder
            OutputHygiene.removeStaleTemporaries(in: spec.outputs.folder)
        }
        for folder in [spec.watch.doneFolder, spec.watch.failedFolder] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        defer { withExtendedLifetime(lock) {} }
        // The listener only feeds the inbox; the poll below finds its studies like any others.
        let listener = try spec.inputs.listen.map {
            try DicomListener(ListenerSettings(port: $0.port, aeTitle: $0.aeTitle,
                                               allowedCallingAETitles: $0.allowedCallingAETitles,
                                               inbox: spec.inputs.folder,
                                               transferSyntaxes: DicomReader.decodableTransferSyntaxUIDs),
                              onEvent: onListenerEvent)
        }
        defer { listener?.stop() }
        let source = BoundedChannel<StudyInput>(capacity: 1)
        let state = WatchState(summary: spec.outputs.summary ? Self.earlierStudies(spec) : nil)
        let stopping = StopFlag()
        let delivery = spec.outputs.send.isEmpty && spec.outputs.stow.isEmpty ? nil : Delivery(spec: spec)
        let deliveryLane = BlockingLane(label: "deliver")
        func deliver() async -> Delivery.Report? {
            guard let delivery, let report = try? await deliveryLane.run({ delivery.deliver() }) else { return nil }
            if !report.items.isEmpty { await onDelivery(report) }
            return report
        }

        @Sendable func writeSummary() async {
            if let entries = await state.summary { try? SummaryWriter.write(spec: spec, entries: entries) }
        }
        /// Moves a finished study, then rewrites the summary with it before telling `onOutcome`.
        @Sendable func record(_ outcome: StudyOutcome) async {
            let moved = self.settle(outcome)
            await state.finish(moved)
            await writeSummary()
            await onOutcome(moved)
        }
        // A watcher killed after a study's ledger line and before the summary's rewrite left the summary without it.
        if !(await state.summary ?? []).isEmpty { await writeSummary() }

        async let graphDone: Int = graph.process(source, shouldStop: { stopping.isRaised }) { outcome in
            // A study dropped by the stop stays in the inbox, to be done after a restart.
            guard outcome.reason != JobGraph.stoppedReason else { return await state.finish(outcome, record: false) }
            await record(outcome)
        }

        // Keyed by path, not study name: "a/" and "a.nii.gz" are both study "a" (and fail as a conflict).
        var sightings: [String: Sighting] = [:]
        var nextDelivery = Date()   // at once: what earlier runs wrote and did not deliver
        var delivered = 0
        while !(await stop()) {
            let finished = await state.done
            if delivery != nil, finished > delivered || Date() >= nextDelivery {
                delivered = finished
                let report = await deliver()
                nextDelivery = report?.notDelivered.isEmpty ?? false ? .distantFuture
                                                                   : Date().addingTimeInterval(Self.deliveryRetrySeconds)
            }
            let studies = (try? StudyDiscovery.studies(for: spec)) ?? []
            let now = Date()
            let present = Set(studies.map(\.location.path))
            sightings = sightings.filter { present.contains($0.key) }
            // Read only in a poll that starts a study (an idle watch polls every 2 s; the ledger grows with every study).
            lazy var entries = Ledger(outputFolder: spec.outputs.folder).entries()
            let conflicts = StudyDiscovery.conflicts(studies, naming: spec.outputs.naming)
            for var study in studies where !(await state.isBusy(study.location.path)) && !study.files.isEmpty {
                let key = study.location.path, fingerprint = study.fingerprint
                guard let seen = sightings[key], seen.fingerprint == fingerprint else {
                    sightings[key] = Sighting(fingerprint: fingerprint, since: now)
                    continue
                }
                let newest = study.files.map(\.modified).max() ?? 0
                let settleTime = spec.watch.settleSeconds
                guard now.timeIntervalSince(seen.since) >= settleTime,
                      now.timeIntervalSince1970 - newest >= settleTime else { continue }
                sightings[key] = nil
                await state.start(key)
                study.name = Self.arrivalName(study, entries: entries)
                if let conflict = conflicts[study.location] {
                    await record(StudyOutcome(study: study, status: .failed, reason: conflict, stage: .discover))
                    continue
                }
                if Ledger(outputFolder: spec.outputs.folder).skipReason(
                    for: study, pipelineFingerprint: spec.fingerprint, model: graph.segmenter.modelDescription, entries: entries,
                    outputFolder: spec.outputs.folder) != nil, let entry = entries[study.name] {
                    // Finished before a restart but not yet moved; listed with its numbers, as if just done.
                    await record(StudyOutcome(study: study, status: .done, reason: "already done (ledger)")
                        .withReport(of: entry, in: spec.outputs.folder))
                    continue
                }
                await source.send(study)
            }
            try? await Task.sleep(nanoseconds: UInt64(spec.watch.pollSeconds * 1e9))
        }
        stopping.raise()
        await source.finish()
        _ = await graphDone
        // The studies finished during the stop are sent too; what fails is sent after the next start.
        if delivery != nil, await state.done > delivered { _ = await deliver() }
    }

    /// The name a study is processed under: its own, or `name-2`, `name-3`, ... when a study of that name was
    /// already done from other files (a new arrival, e.g. a follow-up scan exported under the same folder name),
    /// so the earlier study's outputs are kept beside the new ones rather than overwritten.
    static func arrivalName(_ study: StudyInput, entries: [String: LedgerEntry]) -> String {
        guard let earlier = entries[study.name], earlier.status == .done,
              earlier.inputFingerprint != study.fingerprint else { return study.name }
        var n = 2
        while entries["\(study.name)-\(n)"].map({ $0.inputFingerprint != study.fingerprint }) ?? false { n += 1 }
        return "\(study.name)-\(n)"
    }

    /// The studies the ledger lists as done before this watch started, as skipped: the summary page a restarted
    /// watcher writes lists them too (with their numbers, from their reports), as `run`'s does. Each report is read
    /// here once: the summary is rewritten after every study, and reading every earlier report each time would cost
    /// a long-running watch O(studies) per study.
    static func earlierStudies(_ spec: PipelineSpec) -> [SummaryEntry] {
        Ledger(outputFolder: spec.outputs.folder).entries().values.filter { $0.status == .done }
            .sorted { $0.study < $1.study }
            .map { entry in
                let study = StudyInput(name: entry.study, location: spec.watch.doneFolder.appendingPathComponent(entry.study),
                                       isFolder: true, files: [])
                return SummaryEntry(StudyOutcome(study: study, status: .skipped, reason: "done before this watch started (ledger)")
                    .withReport(of: entry, in: spec.outputs.folder))
            }
    }

    /// Moves a finished study out of the inbox; a failed one gets its reason written beside it.
    func settle(_ outcome: StudyOutcome) -> StudyOutcome {
        let spec = graph.spec
        let folder = outcome.status == .failed ? spec.watch.failedFolder : spec.watch.doneFolder
        let source = outcome.study.location
        var outcome = outcome
        do {
            let destination = Self.freeName(for: source.lastPathComponent, in: folder)
            try FileManager.default.moveItem(at: source, to: destination)
            if outcome.status == .failed {
                let reason = "\(outcome.study.name) failed in \(outcome.stage?.rawValue ?? "?"): \(outcome.reason ?? "unknown")\n"
                try AtomicFile.write(Data(reason.utf8),
                                     to: folder.appendingPathComponent(destination.lastPathComponent + ".reason.txt"))
            }
        } catch {
            let note = "could not move \(source.path) to \(folder.path): \(error.localizedDescription)"
            outcome.reason = outcome.reason.map { "\($0); \(note)" } ?? note
        }
        return outcome
    }

    /// `name`, or `name-2`, `name-3`, ... when a study of that name was already moved there.
    static func freeName(for name: String, in folder: URL) -> URL {
        var candidate = folder.appendingPathComponent(name)
        var n = 2
        let ext = VolumeFile.extension(of: name) ?? ""
        let stem = String(name.dropLast(ext.count))
        while FileManager.default.fileExists(atPath: candidate.path) {
            candidate = folder.appendingPathComponent("\(stem)-\(n)\(ext)")
            n += 1
        }
        return candidate
    }
}

/// Studies submitted and not yet moved (by path), how many this watch finished as done, and (when the pipeline
/// writes one) the summary so far: the studies of earlier watches first, each replaced when it finishes again.
actor WatchState {
    private var busy: Set<String> = []
    private(set) var done = 0
    private(set) var summary: [SummaryEntry]?

    init(summary: [SummaryEntry]?) { self.summary = summary }

    func isBusy(_ path: String) -> Bool { busy.contains(path) }
    func start(_ path: String) { busy.insert(path) }

    func finish(_ outcome: StudyOutcome, record: Bool = true) {
        busy.remove(outcome.study.location.path)
        guard record else { return }
        if outcome.status == .done { done += 1 }
        summary?.removeAll { $0.row.status == StudyOutcome.Status.skipped.rawValue && $0.row.study == outcome.study.name }
        summary?.append(SummaryEntry(outcome))
    }
}
