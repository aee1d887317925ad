import ArgumentParser
import Foundation
import SegPipeline

@main
struct UniverSegCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "universeg",
        abstract: "In-context medical image segmentation (UniverSeg) for NIfTI and DICOM studies.",
        version: ToolInfo.version,
        subcommands: [RunCommand.self, SegmentCommand.self, WatchCommand.self, ValidateCommand.self, InspectCommand.self,
                      InferCommand.self, EvaluateCommand.self, SummaryCommand.self, SlurmCommand.self, SupportCommand.self]
    )

    /// ArgumentParser's own main, except that a usage error is one line (`error: problem (see ...)`) instead of
    /// the problem, the option's help and the whole usage text: scripts and log collectors read one line per error.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                printUsageError(message(for: error), arguments: Array(CommandLine.arguments.dropFirst()))
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
            exit(withError: error)
        }
    }

    /// `error: PROBLEM (see 'universeg COMMAND --help')` on stderr.
    static func printUsageError(_ problem: String, arguments: [String]) {
        var command = ""
        for subcommand in configuration.subcommands where subcommand.configuration.commandName == arguments.first {
            command = " " + arguments[0]
        }
        let line = problem.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write(Data("error: \(line) (see 'universeg\(command) --help')\n".utf8))
    }
}
