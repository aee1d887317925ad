import ArgumentParser
import Foundation
import SegPipeline

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a pipeline definition and print every problem with its line and column.",
        discussion: "Exit status: 0 when the definition is valid (warnings allowed), 2 when it has errors.")

    @Argument(help: "The pipeline definition (YAML).")
    var pipeline: String

    func validate() throws {
        try PathCheck.notEmpty(pipeline, option: "PIPELINE")
    }

    func run() throws {
        let url = URL(fileURLWithPath: pipeline)
        let text: String
        do { text = try PipelineSpecParser.readDefinition(url, name: pipeline) } catch {
            printError(error)
            throw PipelineExit.invalidDefinition
        }
        let (spec, diagnostics) = PipelineSpecParser.check(text, file: pipeline, baseFolder: url.deletingLastPathComponent())
        for diagnostic in diagnostics {
            FileHandle.standardError.write(Data((diagnostic.rendered(source: text) + "\n").utf8))
        }
        guard let spec else {
            let errors = diagnostics.filter { $0.severity == .error }.count
            FileHandle.standardError.write(Data("\(errors) error\(errors == 1 ? "" : "s") in \(pipeline)\n".utf8))
            throw PipelineExit.invalidDefinition
        }
        let writers = spec.outputs.writers.map(\.rawValue).joined(separator: ", ")
        print("\(pipeline): ok: pipeline '\(spec.name)', \(spec.targets.count) target\(spec.targets.count == 1 ? "" : "s") "
              + "(\(spec.targets.map(\.name).joined(separator: ", "))), writers \(writers)")
    }
}

/// Loads a definition for run/watch, printing its errors compiler-style and exiting 2 when it has any.
func loadPipelineOrExit(_ path: String) throws -> PipelineSpec {
    do {
        return try PipelineSpecParser.load(URL(fileURLWithPath: path))
    } catch let error as PipelineSpecError {
        printError(error)
        throw PipelineExit.invalidDefinition
    }
}
