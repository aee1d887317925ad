import ArgumentParser
import Foundation
import SegPipeline
import VolumeIO

/// `universeg evaluate`: Dice of the model (and of a trivial baseline) on a labelled task folder.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score the model on a task folder of labelled support and query volumes (Dice 2D and 3D).",
        discussion: """
            TASK_DIR holds support/ and query/, each with NAME_image.nii.gz + NAME_label.nii.gz pairs (2D or 3D), \
            and optionally task.yaml: `labels: [v, ...]` (foreground values; default every value > 0), `axis: 0|1|2` \
            (NIfTI voxel axis to slice support and query along; default each volume's acquisition axis) and \
            `normalize: percentile | minmax | {method: window, center: C, width: W}`.
            Paper protocol (2D Dice): support sets drawn (seeded) from the support slices that show foreground \
            (all of them when there are no more than --support-size), every query slice with foreground scored on \
            the 128 x 128 model grid.
            Whole volumes (3D): every query volume segmented as `segment` and pipelines do it, with the same \
            support selection (--strategy, --groups; default the pipeline's) and post-processing options, mapped \
            back to its native grid and compared there: 3D Dice, precision, recall, label-free slices given \
            foreground (false shapes) and labelled slices missed.
            --ensemble K: K support sets, probabilities averaged.
            --sweep: the paper's table, mean 2D Dice for S = 1, 2, 4, 8, 16, 32, 64 with one support set and with \
            an ensemble of --ensemble sets (default 5).
            --baseline: also score a trivial baseline, the label of the foreground support slice whose normalised \
            model image is nearest (L2) to each query slice.
            Exit status: 0 scored, 1 an input error (one line on stderr naming the file or folder).
            """)

    @Argument(help: "The task folder.")
    var task: String

    @Option(help: "Support slices per set (default 16; not with --sweep).")
    var supportSize: Int?

    @Option(help: "Support sets averaged (default 1; with --sweep, the ensemble column's size, default 5).")
    var ensemble: Int?

    @Option(help: "Seed for the support draws.")
    var seed: UInt64 = 0

    @Option(help: "Write the results as JSON to this file ('-' for stdout instead of the text summary).")
    var json: String?

    @Flag(help: "Print mean 2D Dice for support sizes 1 to 64, with and without ensembling.")
    var sweep = false

    @Flag(help: "Also score the nearest-support-slice baseline.")
    var baseline = false

    @OptionGroup var wholeVolume: WholeVolumeArguments

    @Option(help: "Write each query volume's probability map (native grid) to this folder as NAME_prob.nii.gz.")
    var probabilities: String?

    @Option(help: ArgumentHelp("Instead of the scores: for each query volume, its 3D Dice after adding N of its own slices (true labels) to the support, the N least confident against N random ones.", valueName: "N"))
    var annotateNext: Int?

    @Option(help: ArgumentHelp("With --annotate-next: the least-confident measures to compare, comma-separated (\(SliceConfidence.Measure.allCases.map(\.rawValue).joined(separator: ", "))).", valueName: "LIST"))
    var annotateNextMeasures: String = SliceConfidence.Measure.standard.rawValue

    @Option(help: ArgumentHelp("With --annotate-next: how many random draws of N slices to average.", valueName: "DRAWS"))
    var annotateNextRandomDraws: Int = 5

    /// `--annotate-next-measures` parsed.
    var measures: [SliceConfidence.Measure] {
        get throws {
            try annotateNextMeasures.split(separator: ",").map { name in
                guard let m = SliceConfidence.Measure(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--annotate-next-measures: unknown measure '\(name)'; choose from "
                                          + SliceConfidence.Measure.allCases.map(\.rawValue).joined(separator: ", "))
                }
                return m
            }
        }
    }

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if let supportSize {
            guard !sweep else { throw ValidationError("--support-size does not apply to --sweep (it runs S = 1, 2, 4, ..., 64)") }
            guard (1...1024).contains(supportSize) else { throw ValidationError("--support-size must be from 1 to 1024") }
        }
        if let ensemble, !(1...64).contains(ensemble) { throw ValidationError("--ensemble must be from 1 to 64") }
        try PathCheck.notEmpty(task, option: "TASK_DIR")
        if let json, json != "-" { try PathCheck.outputFile(json, option: "--json") }
        if let probabilities { try PathCheck.outputFolder(probabilities, option: "--probabilities") }
        let folder = URL(fileURLWithPath: task)
        let inputs = ["support", "query", "task.yaml"].map { folder.appendingPathComponent($0) }
            + [engine.weights].compactMap { $0.map { URL(fileURLWithPath: $0) } }
        for (option, path) in [("--json", json), ("--probabilities", probabilities)] {
            guard let path, path != "-" else { continue }
            if let input = InputGuard.input(containing: URL(fileURLWithPath: path), inputs: inputs) {
                throw ValidationError("\(option) \(path) would overwrite or land inside the input \(input.path); choose another place")
            }
        }
        if probabilities != nil && sweep { throw ValidationError("--probabilities does not apply to --sweep") }
        if let annotateNext {
            guard (1...64).contains(annotateNext) else { throw ValidationError("--annotate-next must be from 1 to 64") }
            guard !sweep, !wholeVolume.fuseAxes else { throw ValidationError("--annotate-next does not apply to --sweep or --fuse-axes") }
            guard (1...100).contains(annotateNextRandomDraws) else {
                throw ValidationError("--annotate-next-random-draws must be from 1 to 100")
            }
            guard try !measures.isEmpty else { throw ValidationError("--annotate-next-measures names no measure") }
        }
    }

    func run() throws {
        do {
            // The task first: a wrong folder is reported before seconds go into loading the model.
            let definition = try EvaluationTask.load(URL(fileURLWithPath: task))
            let model = try engine.loadModelOrBundled()
            let threads = engine.threads ?? UsableCores.count
            // Progress lines only on a terminal, so logs and captured output stay the results alone.
            var progress: (@Sendable (String) -> Void)?
            if isatty(2) == 1 {
                progress = { line in FileHandle.standardError.write(Data("  \(line)\n".utf8)) }
            }
            let text: String, data: Data
            if sweep {
                let report = try Evaluator.sweep(definition, model: model, ensemble: ensemble ?? 5, seed: seed,
                                                 threads: threads, baseline: baseline, progress: progress)
                (text, data) = (report.table(), try report.json())
            } else {
                var options = Evaluator.Options(supportSize: supportSize ?? 16, ensemble: ensemble ?? 1, seed: seed,
                                                threads: threads, baseline: baseline,
                                                wholeVolume: WholeVolumeOptions(
                                                    strategy: wholeVolume.strategyValue, groups: wholeVolume.groups,
                                                    cleanup: wholeVolume.cleanup, smoothSlices: wholeVolume.smoothSlices,
                                                    fuseAxes: wholeVolume.fuseAxes),
                                                progress: progress)
                options.probabilitiesFolder = probabilities.map { URL(fileURLWithPath: $0) }
                if let annotateNext {
                    let rows = try AnnotateNext.run(definition, model: model, count: annotateNext, measures: measures,
                                                    randomDraws: annotateNextRandomDraws, options: options)
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    encoder.keyEncodingStrategy = .convertToSnakeCase   // as the rest of evaluate's JSON
                    (text, data) = (AnnotateNext.text(rows), try encoder.encode(rows))
                } else {
                    let report = try Evaluator.evaluate(definition, model: model, options: options)
                    (text, data) = (report.text(), try report.json())
                }
            }
            if json == "-" {
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            } else {
                if let json { try AtomicFile.write(data + Data("\n".utf8), to: URL(fileURLWithPath: json)) }
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }
}
