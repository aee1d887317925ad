/// An error a user reads: the file it is about (when there is one), what was wrong, and what to do about it.
///
/// Every module's errors conform, so one formatter prints them all the same way, like compiler output:
///
///     /data/brain2.nii.gz: error: truncated voxel data: expected 3276800 bytes, got 1048576
///       hint: the file was cut short (an interrupted copy or download); copy it again
public protocol UserError: Error, Sendable, CustomStringConvertible {
    /// The file or folder the error is about (with `:line:column` for a place in a text file), or nil.
    var file: String? { get }
    /// What was wrong, without the file.
    var problem: String { get }
    /// What to do about it, when there is something to say.
    var hint: String? { get }
    /// What a command prints on stderr: by default the line, then the hint indented below it.
    var message: String { get }
}

extension UserError {
    public var hint: String? { nil }

    /// The one-line form, `file: error: problem` (`error: problem` without a file): reports, ledgers and logs keep
    /// this line.
    public var description: String { ErrorText.line(file: file, problem: problem) }

    public var message: String { description + (hint.map { "\n  hint: \($0)" } ?? "") }
}

/// The one way errors are printed.
public enum ErrorText {
    /// `file: error: problem`, or `error: problem`.
    public static func line(file: String?, problem: String) -> String {
        file.map { "\($0): error: \(problem)" } ?? "error: \(problem)"
    }

    /// The line of any error: a `UserError`'s own, anything else as `error: <its description>`.
    public static func line(_ error: any Error) -> String {
        if let error = error as? any UserError { return error.description }
        return line(file: nil, problem: String(describing: error))
    }

    /// What a command prints on stderr for any error: a `UserError`'s message, else its line.
    public static func message(_ error: any Error) -> String {
        (error as? any UserError)?.message ?? line(error)
    }

    /// The problem alone, for a message that already names the file.
    public static func problem(_ error: any Error) -> String {
        (error as? any UserError)?.problem ?? String(describing: error)
    }
}
