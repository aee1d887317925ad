import ArgumentParser
import Foundation
import SegPipeline

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Merge every shard's records into the run's summary: index.html and summary.json.",
        discussion: """
            Given the pipeline, every study of its input is listed (done, failed, or not started, judged as a rerun \
            would); given the output folder, the studies the shards' plans name. Prints the counts per shard and the \
            whole-run figures. Exit status: 0 every study done, 1 some failed or not done, 2 invalid pipeline, 3 no \
            run's records there.
            """)

    @Argument(help: ArgumentHelp("The pipeline definition (YAML), or the output folder of its run.",
                                 valueName: "pipeline-or-output-folder"))
    var source: String

    @Flag(help: "Print summary.json instead of text.")
    var json = false

    func run() throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isFolder) else {
            throw ValidationError("no such file or folder: \(source)")
        }
        let spec = isFolder.boolValue ? nil : try loadPipelineOrExit(source)
        let folder = spec?.outputs.folder ?? URL(fileURLWithPath: source)
        let summary: RunSummary
        do {
            summary = try spec.map(RunSummary.collect(spec:)) ?? RunSummary.collect(outputFolder: folder)
            try summary.write(to: folder)
        } catch {
            printError(error)
            throw PipelineExit.cannotStart
        }
        if json {
            print(String(decoding: try Data(contentsOf: folder.appendingPathComponent("summary.json")), as: UTF8.self))
        } else {
            printText(summary, folder: folder)
        }
        if !summary.complete { throw PipelineExit.studiesFailed }
    }

    private func printText(_ summary: RunSummary, folder: URL) {
        for study in summary.studies where study.status != .done {
            print("\(study.status.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0))\(study.study)"
                  + (study.shard.map { " (shard \($0))" } ?? "") + (study.reason.map { ": \($0)" } ?? ""))
        }
        for shard in summary.shards {
            print("shard \(shard.shard)/\(summary.shardCount ?? 0): \(shard.done) done, \(shard.failed) failed, \(shard.notStarted) not started")
        }
        if let rate = summary.studiesPerHour, let median = summary.medianSecondsPerStudy {
            print(String(format: "%.1f studies/hour, %.1f s per study (median)", rate, median))
        }
        print("\(summary.done) done, \(summary.failed) failed, \(summary.notStarted) not started; "
              + "summary: \(folder.appendingPathComponent("index.html").path)")
    }
}
