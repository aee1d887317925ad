import Foundation
import Yams

/// Reads typed values out of a Yams node tree, recording every problem (with its line and column) instead of
/// stopping at the first, so `validate` can print them all.
struct NodeReader {
    let file: String
    /// Relative paths in the definition are resolved against this folder (the definition's own).
    let baseFolder: URL
    private(set) var diagnostics: [SpecDiagnostic] = []

    init(file: String, baseFolder: URL) {
        self.file = file
        self.baseFolder = baseFolder
    }

    // MARK: Reporting

    static func location(_ node: Node?) -> SourceLocation {
        guard let mark = node?.mark else { return SourceLocation(line: 1, column: 1) }
        return SourceLocation(line: mark.line, column: mark.column)
    }

    mutating func error(_ node: Node?, _ message: String, hint: String? = nil) {
        diagnostics.append(SpecDiagnostic(file: file, location: Self.location(node), message: message, hint: hint))
    }

    mutating func error(at location: SourceLocation, _ message: String, hint: String? = nil) {
        diagnostics.append(SpecDiagnostic(file: file, location: location, message: message, hint: hint))
    }

    mutating func warning(_ node: Node?, _ message: String, hint: String? = nil) {
        diagnostics.append(SpecDiagnostic(file: file, location: Self.location(node), severity: .warning,
                                          message: message, hint: hint))
    }

    // MARK: Mappings

    /// The values of a mapping's keys. Reports a node that is not a mapping, unknown keys (with the closest known
    /// key), keys given twice, and missing required keys. Returns nil only when `node` is not a mapping.
    mutating func fields(_ node: Node, in context: String, allowed: [String], required: [String] = []) -> [String: Node]? {
        guard let mapping = node.mapping else {
            error(node, "'\(context)' must be a mapping of keys to values, got \(Self.kind(of: node))",
                  hint: "the keys of '\(context)' are \(allowed.joined(separator: ", "))")
            return nil
        }
        var values: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                error(key, "a key in '\(context)' must be a plain word")
                continue
            }
            guard allowed.contains(name) else {
                error(key, "unknown key '\(name)' in '\(context)'\(Suggestion.didYouMean(name, in: allowed))",
                      hint: "the keys of '\(context)' are \(allowed.joined(separator: ", "))")
                // Like a compiler, go on as if the suggested key was meant: its value is still checked, and no
                // second error says that key is missing.
                if let meant = Suggestion.closest(to: name, in: allowed), values[meant] == nil,
                   !mapping.contains(where: { $0.key.scalar?.string == meant }) {
                    values[meant] = value
                }
                continue
            }
            if values[name] != nil {
                error(key, "key '\(name)' is given twice in '\(context)'", hint: "keep one of them")
                continue
            }
            values[name] = value
        }
        for name in required where values[name] == nil {
            error(node, "'\(context)' is missing the required key '\(name)'",
                  hint: "add '\(name): ...' here; see docs/pipeline-schema.md")
        }
        return values
    }

    static func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let scalar):
            if scalar.tag.description.hasSuffix("null") || (scalar.style == .plain && ["", "~", "null"].contains(scalar.string)) {
                return "nothing"
            }
            return "'\(scalar.string)'"
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    // MARK: Scalars

    mutating func string(_ node: Node, _ what: String) -> String? {
        guard let scalar = node.scalar, !Self.isNull(node) else {
            error(node, "'\(what)' must be a text value, got \(Self.kind(of: node))")
            return nil
        }
        return scalar.string
    }

    mutating func int(_ node: Node, _ what: String, in range: ClosedRange<Int>) -> Int? {
        guard node.scalar != nil, let value = node.int else {
            error(node, "'\(what)' must be a whole number, got \(Self.kind(of: node))",
                  hint: "use a number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        guard range.contains(value) else {
            error(node, "'\(what)' must be from \(range.lowerBound) to \(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    mutating func double(_ node: Node, _ what: String, in range: ClosedRange<Double>, exclusive: Bool = false) -> Double? {
        guard node.scalar != nil, let value = node.float, value.isFinite else {
            error(node, "'\(what)' must be a number, got \(Self.kind(of: node))")
            return nil
        }
        let inside = exclusive ? (value > range.lowerBound && value < range.upperBound) : range.contains(value)
        guard inside else {
            let bounds = exclusive ? "strictly between \(range.lowerBound) and \(range.upperBound)"
                                   : "from \(range.lowerBound) to \(range.upperBound)"
            error(node, "'\(what)' must be \(bounds), got \(value)")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node, _ what: String) -> Bool? {
        guard node.scalar != nil, let value = node.bool else {
            error(node, "'\(what)' must be true or false, got \(Self.kind(of: node))")
            return nil
        }
        return value
    }

    /// A value out of a fixed set of words, with a "did you mean" for near misses.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ what: String, _ type: T.Type) -> T?
    where T.RawValue == String {
        guard let text = string(node, what) else { return nil }
        if let value = T(rawValue: text) { return value }
        let names = T.allCases.map(\.rawValue)
        error(node, "unknown \(what) '\(text)'\(Suggestion.didYouMean(text, in: names))",
              hint: "choose one of \(names.joined(separator: ", "))")
        return nil
    }

    /// A scalar or a list of scalars, as a list of nodes.
    mutating func list(_ node: Node, _ what: String) -> [Node] {
        switch node {
        case .sequence(let sequence): return Array(sequence)
        case .scalar where !Self.isNull(node): return [node]
        default:
            error(node, "'\(what)' must be a value or a list of values, got \(Self.kind(of: node))")
            return []
        }
    }

    // MARK: Paths

    enum PathKind { case folder, file }

    /// A path resolved against the definition's folder; when `mustExist` is set, a missing path is an error.
    mutating func path(_ node: Node, _ what: String, mustExist kind: PathKind? = nil) -> URL? {
        guard let text = string(node, what) else { return nil }
        guard !text.isEmpty else {
            error(node, "'\(what)' must not be empty")
            return nil
        }
        let expanded = (text as NSString).expandingTildeInPath
        let url = expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded)
                                          : baseFolder.appendingPathComponent(expanded)
        let standardized = url.standardizedFileURL
        if let kind {
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: standardized.path, isDirectory: &isFolder)
            if !exists {
                error(node, "\(what) '\(text)' does not exist (looked at \(standardized.path))",
                      hint: "relative paths start at the pipeline file's folder, \(baseFolder.path)")
                return nil
            }
            if kind == .folder && !isFolder.boolValue {
                error(node, "\(what) '\(text)' is a file, not a folder")
                return nil
            }
            if kind == .file && isFolder.boolValue {
                error(node, "\(what) '\(text)' is a folder, not a file")
                return nil
            }
        }
        return standardized
    }
}
