import Diagnostics
import Foundation

/// A 1-based place in a text file (Yams' `Mark` copied into our own Sendable type at the YAML edge).
public struct SourceLocation: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    public var description: String { "\(line):\(column)" }
}

/// One problem found in a pipeline definition, printed compiler-style:
///
///     pipeline.yaml:12:7: error: unknown key 'outptus' (did you mean 'outputs'?)
///       outptus:
///       ^
///       hint: the keys here are inputs, preprocessing, support, targets, model, outputs, concurrency, watch
public struct SpecDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var file: String
    public var location: SourceLocation
    public var severity: Severity
    public var message: String
    public var hint: String?

    public init(file: String, location: SourceLocation, severity: Severity = .error, message: String, hint: String? = nil) {
        self.file = file
        self.location = location
        self.severity = severity
        self.message = message
        self.hint = hint
    }

    /// The one-line form: `file:line:column: severity: message`.
    public var description: String { "\(file):\(location): \(severity.rawValue): \(message)" }

    /// The one-line form, then the source line with a caret under the column, then the hint.
    public func rendered(source: String) -> String {
        var out = description
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        if !source.isEmpty, location.line >= 1, location.line <= lines.count {
            let text = String(lines[location.line - 1]).replacingOccurrences(of: "\r", with: "")
            let caretOffset = max(0, min(location.column - 1, text.count))
            out += "\n    \(text)\n    \(String(repeating: " ", count: caretOffset))^"
        }
        if let hint { out += "\n    hint: \(hint)" }
        return out
    }
}

/// Thrown when a definition has errors; carries all of them, in file order. The first is its line; printed
/// whole, each comes compiler-style with its source line and hint.
public struct PipelineSpecError: UserError {
    public var diagnostics: [SpecDiagnostic]
    public var source: String

    public var file: String? { diagnostics.first.map { "\($0.file):\($0.location)" } }
    public var problem: String { diagnostics.first?.message ?? "invalid definition" }

    /// Every diagnostic, rendered with its source line and hint.
    public var message: String {
        diagnostics.map { $0.rendered(source: source) }.joined(separator: "\n")
    }
}
