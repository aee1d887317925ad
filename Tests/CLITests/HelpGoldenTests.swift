import ArgumentParser
import Foundation
import Testing
@testable import UniverSegCLI

/// `universeg --help` and `universeg COMMAND --help` for every command, compared with the texts stored in
/// Tests/CLITests/Fixtures/help/ (`universeg.txt`, `universeg-COMMAND.txt`). After an intended change to a
/// command's options or help, regenerate them all and review the diff:
///
///     UNIVERSEG_UPDATE_HELP=1 swift test --filter HelpGoldenTests
@Suite struct HelpGoldenTests {
    static let folder = UniverSegBinary.repository.appendingPathComponent("Tests/CLITests/Fixtures/help")
    static let updating = ProcessInfo.processInfo.environment["UNIVERSEG_UPDATE_HELP"] == "1"

    /// The root command, then every subcommand the tool lists (a new command needs its golden file).
    static let commands: [[String]] = [[]] + UniverSegCommand.configuration.subcommands.map {
        [$0.configuration.commandName!]
    }

    @Test(arguments: commands)
    func helpMatchesItsGoldenText(_ command: [String]) async throws {
        // A fixed width: ArgumentParser wraps help to the terminal's (COLUMNS), and tests must not depend on it.
        let run = try await EngineCLIFixtures.blocking {
            try UniverSegBinary.run(command + ["--help"], environment: ["COLUMNS": "100"])
        }
        #expect(run.status == 0, "\(run.err)")
        #expect(run.err == "")
        let file = Self.folder.appendingPathComponent((["universeg"] + command).joined(separator: "-") + ".txt")
        if Self.updating {
            try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
            try run.out.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let expected = try? String(contentsOf: file, encoding: .utf8)
        #expect(run.out == expected, """
            `universeg \((command + ["--help"]).joined(separator: " "))` differs from \(file.lastPathComponent) \
            (or the file is missing). If the change is intended, regenerate the golden texts and review the diff: \
            UNIVERSEG_UPDATE_HELP=1 swift test --filter HelpGoldenTests
            """)
    }

    /// Every stored text belongs to a command that exists (a removed or renamed command leaves none behind).
    @Test func noGoldenTextIsLeftOver() throws {
        let expected = Set(Self.commands.map { (["universeg"] + $0).joined(separator: "-") + ".txt" })
        let stored = Set(try FileManager.default.contentsOfDirectory(atPath: Self.folder.path))
        #expect(stored == expected || Self.updating,
                "stale golden texts: \(stored.subtracting(expected).sorted()); delete them")
    }
}
