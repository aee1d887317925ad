import Diagnostics
import Foundation
import VolumeIO

/// The streaming job graph: read -> prepare (normalize + slice) -> infer -> assemble (resample back + merge) ->
/// write, one task per stage, joined by bounded channels; each stage hands the next its own type
/// (`StudyStages.swift`).
///
/// - Memory: at most `maxInFlight` studies are admitted at once (a study holds its permit from read until its
///   outputs are written or it fails), so memory stays flat however many studies are queued.
/// - Cores: every stage's blocking work runs on its own serial lane; only the infer lane is CPU-heavy (the engine
///   uses all cores), so reading the next study overlaps inference without two inferences competing.
/// - Failures: a study that throws in any stage is reported as failed; the others go on.
public struct JobGraph: Sendable {
    public var spec: PipelineSpec
    public var segmenter: any Segmenter
    public var maxInFlight: Int
    public var events: @Sendable (PipelineEvent) -> Void
    /// The part of a sharded run this graph processes (nil: a whole run or watch); decides which ledger file it
    /// appends to.
    public var shard: Shard?
    var ledger: Ledger { Ledger(outputFolder: spec.outputs.folder, shard: shard) }
    let supportPool: SupportPool

    public init(spec: PipelineSpec, segmenter: any Segmenter, maxInFlight: Int = 3,
                events: @escaping @Sendable (PipelineEvent) -> Void = { _ in }) {
        precondition(maxInFlight >= 1)
        self.spec = spec
        self.segmenter = segmenter
        self.maxInFlight = maxInFlight
        self.events = events
        supportPool = SupportPool(targets: spec.targets, normalization: spec.preprocessing.normalization)
    }

    /// Processes studies from `source` until it is finished and drained; `onOutcome` sees each study as it ends
    /// (done, failed, or dropped by a stop), in completion order. Returns the most studies that were in flight at once.
    ///
    /// Once `shouldStop` returns true, no further study is read and studies not yet at inference are dropped
    /// (reported as skipped, "stopped"; nothing of theirs is written); those being inferred finish and are written.
    @discardableResult
    public func process(_ source: BoundedChannel<StudyInput>, shouldStop: @escaping @Sendable () -> Bool = { false },
                        onOutcome: @escaping @Sendable (StudyOutcome) async -> Void) async -> Int {
        let depth = spec.concurrency.queueDepth
        let toPrepare = BoundedChannel<ReadStudy>(capacity: depth), toInfer = BoundedChannel<SlicedStudy>(capacity: depth)
        let toAssemble = BoundedChannel<InferredStudy>(capacity: depth)
        let toWrite = BoundedChannel<AssembledStudy>(capacity: depth)
        let slots = AsyncSemaphore(permits: maxInFlight)
        let gauge = InFlightGauge()
        let lanes = (read: BlockingLane(label: "read"), prepare: BlockingLane(label: "prepare"),
                     infer: BlockingLane(label: "infer"), assemble: BlockingLane(label: "assemble"),
                     write: BlockingLane(label: "write"))

        /// A study leaves the graph: told to the observers, its memory permit freed.
        let end: @Sendable (StudyOutcome) async -> Void = { outcome in
            events(.finished(outcome))
            await onOutcome(outcome)
            await gauge.leave()
            await slots.release()
        }
        let fail: @Sendable (any StageValue, PipelineStage, any Error) async -> Void = { job, stage, error in
            let outcome = StudyOutcome(study: job.input, status: .failed, reason: Self.describe(error), stage: stage,
                                       seconds: Date().timeIntervalSince(job.started))
            // Recorded so the failure is on disk; a rerun still retries it (only 'done' entries are skipped).
            if spec.outputs.ledger { try? ledger.append(LedgerEntry(
                study: job.input.name, status: .failed, inputFingerprint: job.input.fingerprint,
                pipelineFingerprint: spec.fingerprint, outputs: [], reason: "\(stage.rawValue): \(outcome.reason ?? "")",
                finishedAt: Clock.timestamp())) }
            await end(outcome)
        }
        let drop: @Sendable (any StageValue) async -> Void = { job in
            await end(StudyOutcome(study: job.input, status: .skipped, reason: Self.stoppedReason,
                                   seconds: Date().timeIntervalSince(job.started)))
        }

        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    await slots.acquire()
                    guard !shouldStop(), let input = await source.next() else {
                        await slots.release()
                        while await source.next() != nil {}   // let the sender finish
                        break
                    }
                    await gauge.enter()
                    let job = AdmittedStudy(input: input)
                    events(.stageStarted(study: input.name, stage: .read))
                    do {
                        await toPrepare.send(try await lanes.read.run { try self.read(job) })
                    } catch {
                        await fail(job, .read, error)
                    }
                }
                await toPrepare.finish()
            }
            group.addTask { await stage(.prepare, from: toPrepare, to: toInfer, lane: lanes.prepare, fail: fail, prepare) }
            group.addTask {
                await stage(.infer, from: toInfer, to: toAssemble, lane: lanes.infer, fail: fail,
                            skip: { shouldStop() ? drop : nil }, infer)
            }
            group.addTask { await stage(.assemble, from: toAssemble, to: toWrite, lane: lanes.assemble, fail: fail, assemble) }
            group.addTask {
                while let job = await toWrite.next() {
                    events(.stageStarted(study: job.input.name, stage: .write))
                    do {
                        await end(try await lanes.write.run { try self.write(job) })
                    } catch {
                        await fail(job, .write, error)
                    }
                }
            }
        }
        return await gauge.peak
    }

    /// A study not started because the run was asked to stop.
    public static let stoppedReason = "not started: the run was stopped"

    /// Runs `work` on each study from `input`; `skip` may hand back a way to drop a study instead (a stopping run).
    private func stage<In: StageValue, Out: Sendable>(
        _ name: PipelineStage, from input: BoundedChannel<In>, to output: BoundedChannel<Out>, lane: BlockingLane,
        fail: @Sendable (any StageValue, PipelineStage, any Error) async -> Void,
        skip: @Sendable () -> (@Sendable (any StageValue) async -> Void)? = { nil },
        _ work: @escaping @Sendable (In) throws -> Out
    ) async {
        while let job = await input.next() {
            if let drop = skip() {
                await drop(job)
                continue
            }
            events(.stageStarted(study: job.input.name, stage: name))
            do {
                await output.send(try await lane.run { try work(job) })
            } catch {
                await fail(job, name, error)
            }
        }
        await output.finish()
    }

    /// The problem alone, for a message that names the file already.
    static func reason(_ error: any Error) -> String {
        if case .writeFailed(_, let reason)? = error as? VolumeIOError { return reason }
        if error is CocoaError { return error.localizedDescription }
        return ErrorText.problem(error)
    }

    /// A study's failure as reports, the ledger and the console show it: `file: error: problem`.
    static func describe(_ error: any Error) -> String {
        if error is CocoaError { return ErrorText.line(file: nil, problem: error.localizedDescription) }
        return ErrorText.line(error)
    }
}
