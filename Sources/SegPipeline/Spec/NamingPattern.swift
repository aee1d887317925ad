import Foundation

/// The `outputs.naming` pattern: a relative path without extension, with `{study}`, `{series}` and `{pipeline}`.
public enum NamingPattern {
    static let placeholders = ["study", "series", "pipeline"]

    /// Why `pattern` is unusable, or nil when it is fine.
    static func problem(in pattern: String) -> String? {
        if pattern.isEmpty { return "'naming' must not be empty" }
        if pattern.hasPrefix("/") { return "'naming' must be a relative path below the output folder" }
        if pattern.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) {
            return "'naming' must not contain '.' or '..' path parts"
        }
        var rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { return "'naming' has a '{' without a '}'" }
            let name = String(rest[rest.index(after: open)..<close])
            if !placeholders.contains(name) {
                return "unknown placeholder '{\(name)}' in 'naming'\(Suggestion.didYouMean(name, in: placeholders))"
            }
            rest = rest[rest.index(after: close)...]
        }
        if !pattern.contains("{study}") { return "'naming' must contain {study}, or every study would write to the same files" }
        return nil
    }

    /// The pattern with its placeholders filled; characters unsafe in file names become '_'.
    public static func expand(_ pattern: String, study: String, series: String, pipeline: String) -> String {
        func safe(_ s: String) -> String {
            String(s.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" })
        }
        return pattern.replacingOccurrences(of: "{study}", with: safe(study))
            .replacingOccurrences(of: "{series}", with: safe(series))
            .replacingOccurrences(of: "{pipeline}", with: safe(pipeline))
    }
}
