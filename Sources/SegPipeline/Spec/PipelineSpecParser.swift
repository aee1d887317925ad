import DicomNetwork
import Foundation
import UniverSeg
import VolumeIO
import Yams

/// Reads a pipeline definition from YAML with Yams' node API (which keeps line and column marks), checks it, and
/// reports every problem at once. See docs/pipeline-schema.md for the schema.
public enum PipelineSpecParser {
    static let topKeys = ["version", "name", "inputs", "preprocessing", "support", "targets", "model", "outputs",
                          "concurrency", "watch"]

    /// Parses and checks the definition in `file`; throws `PipelineSpecError` listing every error.
    public static func load(_ file: URL) throws -> PipelineSpec {
        let text = try readDefinition(file, name: file.path)
        let (spec, diagnostics) = check(text, file: file.relativePath, baseFolder: file.deletingLastPathComponent())
        guard let spec, !diagnostics.contains(where: { $0.severity == .error }) else {
            throw PipelineSpecError(diagnostics: diagnostics, source: text)
        }
        return spec
    }

    /// The text of a definition file, or an error at 1:1 saying why it cannot be read (missing, a folder, too large,
    /// not UTF-8); `name` is how diagnostics name the file.
    public static func readDefinition(_ file: URL, name: String) throws(PipelineSpecError) -> String {
        switch SmallTextFile.read(file) {
        case .success(let text): return text
        case .failure(let problem):
            throw PipelineSpecError(diagnostics: [SpecDiagnostic(
                file: name, location: SourceLocation(line: 1, column: 1),
                message: "cannot read the pipeline file: \(problem.reason)")], source: "")
        }
    }

    /// Parses and checks `text`; returns the spec when it has no errors, and every diagnostic (errors and warnings)
    /// sorted by position. `file` is the name used in diagnostics.
    public static func check(_ text: String, file: String, baseFolder: URL) -> (PipelineSpec?, [SpecDiagnostic]) {
        var reader = NodeReader(file: file, baseFolder: baseFolder.standardizedFileURL)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            return (nil, [yamlDiagnostic(error, file: file)])
        } catch {
            return (nil, [SpecDiagnostic(file: file, location: SourceLocation(line: 1, column: 1),
                                         message: "cannot parse YAML: \(error)")])
        }
        guard let root else {
            reader.error(at: SourceLocation(line: 1, column: 1), "the pipeline file is empty",
                         hint: "start from Pipelines/brain-lesion-nifti.yaml")
            return (nil, reader.diagnostics)
        }
        let spec = readSpec(root, &reader, fingerprint: FNV1a.hex(text))
        let sorted = reader.diagnostics.sorted { $0.location < $1.location }
        return (sorted.contains { $0.severity == .error } ? nil : spec, sorted)
    }

    static func yamlDiagnostic(_ error: YamlError, file: String) -> SpecDiagnostic {
        func diag(_ kind: String, _ problem: String, _ mark: Mark, _ context: YamlError.Context?) -> SpecDiagnostic {
            let detail = context.map { "\($0.text) " } ?? ""
            return SpecDiagnostic(file: file, location: SourceLocation(line: mark.line, column: mark.column),
                                  message: "YAML \(kind): \(detail)\(problem)",
                                  hint: "check indentation (spaces only) and that every 'key: value' has a space after ':'")
        }
        switch error {
        case let .scanner(context, problem, mark, _): return diag("syntax", problem, mark, context)
        case let .parser(context, problem, mark, _): return diag("structure", problem, mark, context)
        case let .composer(context, problem, mark, _): return diag("structure", problem, mark, context)
        default:
            return SpecDiagnostic(file: file, location: SourceLocation(line: 1, column: 1), message: "cannot parse YAML: \(error)")
        }
    }

    // MARK: Sections

    static func readSpec(_ root: Node, _ r: inout NodeReader, fingerprint: String) -> PipelineSpec? {
        guard let top = r.fields(root, in: "pipeline", allowed: topKeys, required: ["inputs", "targets", "outputs"]) else {
            return nil
        }
        if let version = top["version"], let v = r.int(version, "version", in: 1...1000), v != 1 {
            r.error(version, "unsupported version \(v)", hint: "this universeg reads version 1")
        }
        let name = top["name"].flatMap { r.string($0, "name") } ?? "pipeline"

        let inputs = top["inputs"].flatMap { readInputs($0, &r) }
        let preprocessing = top["preprocessing"].map { readPreprocessing($0, &r) } ?? PreprocessingSpec()
        let support = top["support"].map { readSupport($0, &r) } ?? SupportSpec(libraries: [])
        // nil: the support section had errors, so a target's missing library is not reported again.
        let globalLibraries: [URL]? = top["support"] == nil ? [] : support?.libraries
        let targets = top["targets"].map { readTargets($0, &r, globalLibraries: globalLibraries) } ?? []
        let model = top["model"].map { readModel($0, &r) } ?? ModelSpec()
        let outputs = top["outputs"].flatMap { readOutputs($0, &r, inputs: inputs) }
        if let outputs, let folderNode = top["outputs"]?.mapping?["folder"] {
            let libraries = (support?.libraries ?? []) + targets.flatMap(\.libraries)
            if let library = InputGuard.input(containing: outputs.folder, inputs: libraries) {
                r.error(folderNode, "the output folder lies inside the support library \(library.path)",
                        hint: "outputs would be read back as support examples; use a separate folder")
            }
        }
        let concurrency = top["concurrency"].map { readConcurrency($0, &r) } ?? ConcurrencySpec()
        let watch = readWatch(top["watch"], &r, inputs: inputs)

        guard let inputs, let support, let outputs, let watch, !targets.isEmpty else { return nil }
        return PipelineSpec(name: name, inputs: inputs, preprocessing: preprocessing, support: support,
                            targets: targets, model: model, outputs: outputs, concurrency: concurrency,
                            watch: watch, fingerprint: fingerprint)
    }

    static func readInputs(_ node: Node, _ r: inout NodeReader) -> InputSpec? {
        guard let f = r.fields(node, in: "inputs", allowed: ["folder", "match", "format", "image", "series", "listen"],
                               required: ["folder"]) else { return nil }
        let folder = f["folder"].flatMap { r.path($0, "input folder", mustExist: .folder) }
        var spec = InputSpec(folder: folder ?? URL(fileURLWithPath: "/"))
        if let n = f["match"], let v = r.string(n, "match") { spec.match = v }
        if let n = f["format"], let v = r.choice(n, "input format", InputFormat.self) { spec.format = v }
        if let n = f["image"], let v = r.string(n, "image") { spec.image = v }
        if let n = f["series"], let s = r.fields(n, in: "series", allowed: ["modality", "description", "orientation",
                                                                              "min_slices", "pick", "volume", "b_value",
                                                                              "echo"]) {
            if let m = s["modality"] { spec.series.modality = r.string(m, "modality")?.uppercased() }
            if let d = s["description"], let pattern = r.string(d, "description") {
                // Foundation on Linux leaks a pattern's buffer on every compile past 256 UTF-16 units (found by
                // fuzzing); a SeriesDescription holds at most 64 characters, so no useful pattern is that long.
                if pattern.utf16.count > 256 {
                    r.error(d, "'description' is a regular expression of \(pattern.count) characters; at most 256 are allowed",
                            hint: "a SeriesDescription holds at most 64 characters")
                } else if (try? NSRegularExpression(pattern: pattern)) == nil {
                    r.error(d, "'description' is not a valid regular expression: \(pattern)",
                            hint: "quote the pattern and escape special characters, e.g. \"(?i)t1.*post\"")
                } else {
                    spec.series.description = pattern
                }
            }
            if let o = s["orientation"] { spec.series.orientation = r.choice(o, "orientation", AnatomicalPlane.self) }
            if let m = s["min_slices"], let v = r.int(m, "min_slices", in: 1...100_000) { spec.series.minSlices = v }
            if let p = s["pick"], let v = r.choice(p, "pick", SeriesPick.self) { spec.series.pick = v }
            if let b = s["b_value"], let v = r.double(b, "b_value", in: 0...100_000) { spec.series.bValue = v }
            if let e = s["echo"], let v = r.int(e, "echo", in: 1...1000) { spec.series.echo = v }
            if let v = s["volume"], let rule = readVolumeRule(v, &r) { spec.series.volume = rule }
        }
        if let n = f["listen"] {
            spec.listen = readListen(n, &r)
            if spec.format == .nifti, let format = f["format"] {
                r.error(format, "inputs.listen receives DICOM, but inputs.format is nifti",
                        hint: "set format: dicom (or auto) for a listener's inbox")
            }
        }
        return folder == nil ? nil : spec
    }

    /// `volume: first | last | N` (N a whole number from 1).
    static func readVolumeRule(_ node: Node, _ r: inout NodeReader) -> VolumeRule? {
        let hint = "use first, last, or the volume's number in the series (1 is the first), e.g. 'volume: 2'"
        if let number = node.scalar.flatMap({ _ in node.int }) {
            guard number >= 1 else {
                r.error(node, "'volume' must be 1 or more, got \(number)", hint: hint)
                return nil
            }
            return .number(number)
        }
        switch node.scalar?.string {
        case "first": return .first
        case "last": return .last
        default:
            let text = NodeReader.kind(of: node)
            r.error(node, "'volume' must be first, last or a volume number, got \(text)"
                    + Suggestion.didYouMean(node.scalar?.string ?? "", in: ["first", "last"]), hint: hint)
            return nil
        }
    }

    /// `inputs.listen: {port, aet, allowed_calling_aets}`.
    static func readListen(_ node: Node, _ r: inout NodeReader) -> ListenSpec? {
        guard let f = r.fields(node, in: "listen", allowed: ["port", "aet", "allowed_calling_aets"], required: ["port"]),
              let p = f["port"], let port = r.int(p, "port", in: 1...65535) else { return nil }
        var spec = ListenSpec(port: UInt16(port))
        if let n = f["aet"], let title = aeTitle(n, "aet", &r) { spec.aeTitle = title }
        if let n = f["allowed_calling_aets"] {
            spec.allowedCallingAETitles = r.list(n, "allowed_calling_aets").compactMap { aeTitle($0, "allowed_calling_aets", &r) }
        }
        return spec
    }

    /// `outputs.send: [{host, port, called_aet, calling_aet, timeout}]`.
    static func readSend(_ node: Node, _ r: inout NodeReader) -> [DicomDestination] {
        guard case .sequence(let items) = node else {
            r.error(node, "'send' must be a list of destinations, got \(NodeReader.kind(of: node))",
                    hint: "e.g. send: [{host: pacs.example.org, port: 104, called_aet: PACS}]")
            return []
        }
        var destinations: [DicomDestination] = []
        for item in items {
            guard let f = r.fields(item, in: "send", allowed: ["host", "port", "called_aet", "calling_aet", "timeout"],
                                   required: ["host", "port", "called_aet"]),
                  let h = f["host"], let host = r.string(h, "host"),
                  let p = f["port"], let port = r.int(p, "port", in: 1...65535),
                  let c = f["called_aet"], let called = aeTitle(c, "called_aet", &r) else { continue }
            if host.isEmpty || host.contains(where: \.isWhitespace) {
                r.error(h, "'host' must be a host name or an IP address, got '\(host)'")
                continue
            }
            var destination = DicomDestination(host: host, port: UInt16(port), calledAETitle: called,
                                               callingAETitle: ListenSpec.defaultAETitle)
            if let n = f["calling_aet"], let calling = aeTitle(n, "calling_aet", &r) { destination.callingAETitle = calling }
            if let n = f["timeout"], let v = seconds(n, "timeout", &r) {
                if v < 1 || v > 3600 { r.error(n, "'timeout' must be from 1 s to 1 h") } else { destination.timeoutSeconds = UInt32(v) }
            }
            if destinations.contains(where: { $0.description == destination.description }) {
                r.error(item, "destination \(destination.description) is listed twice", hint: "keep one of them")
                continue
            }
            destinations.append(destination)
        }
        return destinations
    }

    /// `outputs.stow: {url, timeout}`, or a list of them.
    static func readStow(_ node: Node, _ r: inout NodeReader) -> [StowDestination] {
        let items: [Node] = if case .sequence(let sequence) = node { Array(sequence) } else { [node] }
        var destinations: [StowDestination] = []
        for item in items {
            guard let f = r.fields(item, in: "stow", allowed: ["url", "timeout"], required: ["url"]),
                  let u = f["url"], let text = r.string(u, "url") else { continue }
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                  url.host?.isEmpty == false else {
                r.error(u, "'url' must be an http or https URL of a DICOMweb service, got '\(text)'",
                        hint: "e.g. url: https://pacs.example.org/dicom-web (instances are POSTed to URL/studies)")
                continue
            }
            var destination = StowDestination(url: url)
            if let n = f["timeout"], let v = seconds(n, "timeout", &r) {
                if v < 1 || v > 3600 { r.error(n, "'timeout' must be from 1 s to 1 h") } else { destination.timeoutSeconds = UInt32(v) }
            }
            if destinations.contains(destination) {
                r.error(item, "destination \(destination.description) is listed twice", hint: "keep one of them")
                continue
            }
            destinations.append(destination)
        }
        return destinations
    }

    static func aeTitle(_ node: Node, _ what: String, _ r: inout NodeReader) -> String? {
        guard let text = r.string(node, what) else { return nil }
        if let problem = AETitle.problem(in: text) {
            r.error(node, "'\(what)': \(problem)", hint: "AE titles are 1 to 16 characters, e.g. UNIVERSEG")
            return nil
        }
        return text.trimmingCharacters(in: .whitespaces)
    }

    static func readPreprocessing(_ node: Node, _ r: inout NodeReader) -> PreprocessingSpec {
        var spec = PreprocessingSpec()
        guard let f = r.fields(node, in: "preprocessing", allowed: ["axis", "normalization", "fuse_axes"]) else { return spec }
        if let n = f["fuse_axes"], let v = r.bool(n, "fuse_axes") { spec.fuseAxes = v }
        if let n = f["axis"], let text = r.string(n, "axis") {
            switch text.lowercased() {
            case "auto": spec.axis = .acquisition
            case "i", "0": spec.axis = .voxel(0)
            case "j", "1": spec.axis = .voxel(1)
            case "k", "2": spec.axis = .voxel(2)
            default:
                if let plane = AnatomicalPlane(rawValue: text.lowercased()) {
                    spec.axis = .plane(plane)
                } else {
                    let names = ["auto", "axial", "coronal", "sagittal", "i", "j", "k"]
                    r.error(n, "unknown axis '\(text)'\(Suggestion.didYouMean(text, in: names))",
                            hint: "choose auto (the thickest-spaced axis), axial, coronal, sagittal, or an index axis i, j, k")
                }
            }
        }
        if let n = f["normalization"] { spec.normalization = readNormalization(n, &r) ?? spec.normalization }
        return spec
    }

    /// `key`: the name the value has in its file (pipelines say normalization, task.yaml says normalize).
    /// A normalization written as in a definition (`percentile`, `minmax`, or YAML flow text such as
    /// `{method: window, center: 40, width: 400}`), for command-line options; errors as a definition's, naming `option`.
    public static func normalization(_ text: String, option: String) throws -> IntensityNormalization {
        var r = NodeReader(file: option, baseFolder: URL(fileURLWithPath: "."))
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw PipelineSpecError(diagnostics: [yamlDiagnostic(error, file: option)], source: text)
        }
        guard let node, let value = readNormalization(node, &r, key: option) else {
            let diagnostics = r.diagnostics.filter { $0.severity == .error }
            throw PipelineSpecError(diagnostics: diagnostics.isEmpty
                ? [SpecDiagnostic(file: option, location: SourceLocation(line: 1, column: 1), message: "no normalization given")]
                : diagnostics, source: text)
        }
        return value
    }

    static func readNormalization(_ node: Node, _ r: inout NodeReader, key: String = "normalization") -> IntensityNormalization? {
        let methods = ["percentile", "window", "minmax"]
        if node.scalar != nil, let method = r.string(node, key) {
            switch method {
            case "percentile": return .robust
            case "minmax": return .minMax
            case "window":
                r.error(node, "a 'window' normalization needs a center and a width",
                        hint: "write \(key): {method: window, center: 40, width: 400}")
                return nil
            default:
                r.error(node, "unknown normalization '\(method)'\(Suggestion.didYouMean(method, in: methods))",
                        hint: "choose one of \(methods.joined(separator: ", "))")
                return nil
            }
        }
        guard let f = r.fields(node, in: key, allowed: ["method", "lower", "upper", "center", "width"],
                               required: ["method"]),
              let m = f["method"], let method = r.string(m, "method") else { return nil }
        switch method {
        case "percentile":
            for key in ["center", "width"] where f[key] != nil {
                r.error(f[key], "'\(key)' belongs to the 'window' method, not 'percentile'")
            }
            let lower = f["lower"].map { r.double($0, "lower", in: 0...100) } ?? 0.5
            let upper = f["upper"].map { r.double($0, "upper", in: 0...100) } ?? 99.5
            guard let lower, let upper else { return nil }
            guard lower < upper else {
                r.error(f["upper"] ?? node, "'upper' (\(upper)) must be above 'lower' (\(lower))")
                return nil
            }
            return .percentile(lower: lower, upper: upper)
        case "window":
            for key in ["lower", "upper"] where f[key] != nil {
                r.error(f[key], "'\(key)' belongs to the 'percentile' method, not 'window'")
            }
            guard let c = f["center"], let w = f["width"] else {
                r.error(node, "a 'window' normalization needs a center and a width", hint: "e.g. center: 40, width: 400")
                return nil
            }
            guard let center = r.double(c, "center", in: -1e9...1e9),
                  let width = r.double(w, "width", in: 0...1e9, exclusive: true) else { return nil }
            return .window(center: center, width: width)
        case "minmax":
            for key in ["lower", "upper", "center", "width"] where f[key] != nil {
                r.error(f[key], "'minmax' takes no '\(key)'")
            }
            return .minMax
        default:
            r.error(m, "unknown normalization method '\(method)'\(Suggestion.didYouMean(method, in: methods))",
                    hint: "choose one of \(methods.joined(separator: ", "))")
            return nil
        }
    }

    static func readLibraries(_ node: Node, _ r: inout NodeReader, what: String) -> [URL]? {
        var urls: [URL] = []
        var ok = true
        for item in r.list(node, what) {
            guard let url = r.path(item, "support library", mustExist: .folder) else { ok = false; continue }
            do {
                if try LabelledPair.scan(url).isEmpty {
                    r.error(item, "support library '\(url.path)' holds no NAME_image.nii.gz + NAME_label.nii.gz pairs",
                            hint: "each example is an image file and a label file sharing a name before _image/_label")
                    ok = false
                }
            } catch {
                r.error(item, "support library '\(error.folder)': \(error.reason)",
                        hint: "every NIfTI file there must be NAME_image or NAME_label with its partner beside it")
                ok = false
            }
            urls.append(url)
        }
        return ok ? urls : nil
    }

    static func readSupport(_ node: Node, _ r: inout NodeReader) -> SupportSpec? {
        guard let f = r.fields(node, in: "support", allowed: ["library", "strategy", "per_study", "per_study_mode", "groups"])
        else { return nil }
        var spec = SupportSpec(libraries: [])
        if let n = f["library"] {
            guard let libraries = readLibraries(n, &r, what: "library") else { return nil }
            spec.libraries = libraries
        }
        if let n = f["strategy"], let v = r.choice(n, "support strategy", SupportStrategy.self) { spec.strategy = v }
        if let n = f["per_study"] {
            if n.scalar != nil, n.bool == false || NodeReader.isNull(n) {
                spec.perStudyFolder = nil
            } else if let name = r.string(n, "per_study") {
                if name.contains("/") || name == ".." || name.isEmpty {
                    r.error(n, "'per_study' is a folder name inside each study, not a path", hint: "e.g. per_study: support")
                } else {
                    spec.perStudyFolder = name
                }
            }
        }
        if let n = f["per_study_mode"], let v = r.choice(n, "per_study_mode", PerStudySupportMode.self) { spec.perStudyMode = v }
        if let n = f["groups"], let v = r.int(n, "groups", in: 1...256) { spec.groups = v }
        return spec
    }

    static func readTargets(_ node: Node, _ r: inout NodeReader, globalLibraries: [URL]?) -> [TargetSpec] {
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            r.error(node, "'targets' must be a non-empty list of targets, got \(NodeReader.kind(of: node))",
                    hint: "- name: lesion\n      value: 1\n      labels: [1]")
            return []
        }
        var targets: [TargetSpec] = []
        var names: [String: Node] = [:], values: [Int32: Node] = [:]
        var failed = false
        for item in sequence {
            guard let f = r.fields(item, in: "target", allowed: ["name", "value", "labels", "support", "postprocess",
                                                                  "color", "code", "category"],
                                   required: ["name", "value", "labels"]) else { failed = true; continue }
            var name: String?
            if let n = f["name"], let text = r.string(n, "name") {
                if text.range(of: "^[A-Za-z0-9][A-Za-z0-9._-]*$", options: .regularExpression) == nil {
                    r.error(n, "target name '\(text)' may hold only letters, digits, '.', '_' and '-'",
                            hint: "the name becomes part of file names")
                } else if names[text] != nil {
                    r.error(n, "target name '\(text)' is used twice", hint: "first used at line \(NodeReader.location(names[text]).line)")
                } else {
                    names[text] = n
                    name = text
                }
            }
            var value: Int32?
            if let n = f["value"], let v = r.int(n, "value", in: 1...65535) {
                if let first = values[Int32(v)] {
                    r.error(n, "label value \(v) is produced by two targets", hint: "first used at line \(NodeReader.location(first).line)")
                } else {
                    values[Int32(v)] = n
                    value = Int32(v)
                }
            }
            var labels: [Int32] = [], segmentLabels: [String] = []
            if let n = f["labels"] {
                for item in r.list(n, "labels") {
                    // A name (not a number) is a DICOM SEG segment's SegmentLabel.
                    if let text = item.scalar?.string, item.int == nil, Double(text) == nil, !text.isEmpty {
                        segmentLabels.append(text)
                    } else if let v = r.int(item, "labels", in: 1...Int(Int32.max)) { labels.append(Int32(v)) }
                }
                if labels.isEmpty && segmentLabels.isEmpty { r.error(n, "'labels' must name at least one support label value") }
            }
            var libraries: [URL] = []
            if let n = f["support"] {
                libraries = readLibraries(n, &r, what: "support") ?? []
            }
            if libraries.isEmpty && globalLibraries?.isEmpty == true && f["support"] == nil {
                r.error(item, "target '\(name ?? "?")' has no support library",
                        hint: "add 'support: FOLDER' to the target or 'support: {library: FOLDER}' to the pipeline")
            }
            let (smooth, cleanup) = f["postprocess"].map { readPostprocess($0, &r) } ?? (false, .none)
            let color = f["color"].flatMap { readColor($0, &r) }
            let code = f["code"].flatMap { readCode($0, "code", &r) }
            let category = f["category"].flatMap { readCode($0, "category", &r) }
            if f["color"] != nil && color == nil || f["code"] != nil && code == nil || f["category"] != nil && category == nil {
                failed = true
            }
            guard let name, let value, !labels.isEmpty || !segmentLabels.isEmpty else { failed = true; continue }
            var target = TargetSpec(name: name, value: value, supportLabels: labels, libraries: libraries,
                                    smoothSlices: smooth, cleanup: cleanup, color: color, code: code, category: category)
            target.supportSegmentLabels = segmentLabels
            targets.append(target)
        }
        return failed ? [] : targets
    }

    /// `color: [r, g, b]`, each 0...255 (sRGB).
    static func readColor(_ node: Node, _ r: inout NodeReader) -> DisplayColor? {
        let hint = "give red, green and blue from 0 to 255, e.g. color: [220, 60, 60]"
        guard case .sequence(let items) = node, items.count == 3 else {
            r.error(node, "'color' must be a list of three numbers [red, green, blue], got \(NodeReader.kind(of: node))",
                    hint: hint)
            return nil
        }
        var channels: [UInt8] = []
        for item in items {
            guard item.scalar != nil, let v = item.int else {
                r.error(item, "'color' channels must be whole numbers, got \(NodeReader.kind(of: item))", hint: hint)
                continue
            }
            guard (0...255).contains(v) else {
                r.error(item, "'color' channel \(v) is out of range", hint: hint)
                continue
            }
            channels.append(UInt8(v))
        }
        return channels.count == 3 ? DisplayColor(channels[0], channels[1], channels[2]) : nil
    }

    /// `code: {scheme: SCT, value: "10200004", meaning: Liver}` (and the same for `category`).
    static func readCode(_ node: Node, _ what: String, _ r: inout NodeReader) -> CodedConcept? {
        guard let f = r.fields(node, in: what, allowed: ["scheme", "value", "meaning"],
                               required: ["scheme", "value", "meaning"]),
              let s = f["scheme"], let v = f["value"], let m = f["meaning"],
              let scheme = r.string(s, "scheme"), let value = r.string(v, "value"), let meaning = r.string(m, "meaning")
        else { return nil }
        let code = CodedConcept(scheme: scheme, value: value, meaning: meaning)
        if let problem = code.problem {
            r.error(["scheme": s, "value": v][problem.field] ?? m, "'\(what)': \(problem.reason)",
                    hint: "e.g. \(what): {scheme: SCT, value: \"10200004\", meaning: Liver} (SNOMED CT codes: "
                        + "DICOM PS3.16); scheme and value at most 16 characters, meaning at most 64, printable ASCII")
            return nil
        }
        return code
    }

    /// `postprocess: {smooth_slices: true, largest_component: true, min_component_ml: 0.5, fill_holes: true}`;
    /// every key optional.
    static func readPostprocess(_ node: Node, _ r: inout NodeReader) -> (smoothSlices: Bool, cleanup: MaskCleanup) {
        var cleanup = MaskCleanup.none, smooth = false
        guard let f = r.fields(node, in: "postprocess",
                               allowed: ["smooth_slices", "largest_component", "min_component_ml", "fill_holes"])
        else { return (smooth, cleanup) }
        if let n = f["smooth_slices"], let v = r.bool(n, "smooth_slices") { smooth = v }
        if let n = f["largest_component"], let v = r.bool(n, "largest_component") { cleanup.largestComponent = v }
        if let n = f["min_component_ml"], let v = r.double(n, "min_component_ml", in: 0...1_000_000) { cleanup.minComponentML = v }
        if let n = f["fill_holes"], let v = r.bool(n, "fill_holes") { cleanup.fillHoles = v }
        return (smooth, cleanup)
    }

    static func readModel(_ node: Node, _ r: inout NodeReader) -> ModelSpec {
        var spec = ModelSpec()
        guard let f = r.fields(node, in: "model", allowed: ["weights", "support_size", "ensemble", "threshold", "seed", "precision"])
        else { return spec }
        if let n = f["weights"], let text = r.string(n, "weights"), text != "default" {
            spec.weights = r.path(n, "weights file", mustExist: .file)
        }
        if let n = f["support_size"], let v = r.int(n, "support_size", in: 1...256) { spec.supportSize = v }
        if let n = f["ensemble"], let v = r.int(n, "ensemble", in: 1...64) { spec.ensemble = v }
        if let n = f["threshold"], let v = r.double(n, "threshold", in: 0...1, exclusive: true) { spec.threshold = v }
        if let n = f["seed"], let v = r.int(n, "seed", in: 0...Int.max) { spec.seed = UInt64(v) }
        if let n = f["precision"], let v = r.choice(n, "precision", Precision.self) { spec.precision = v }
        return spec
    }

    static func readOutputs(_ node: Node, _ r: inout NodeReader, inputs: InputSpec?) -> OutputSpec? {
        guard let f = r.fields(node, in: "outputs", allowed: ["folder", "naming", "writers", "summary", "send", "stow"],
                               required: ["folder"]) else { return nil }
        guard let folderNode = f["folder"], let folder = r.path(folderNode, "output folder") else { return nil }
        var spec = OutputSpec(folder: folder)
        if let inputs, folder.path == inputs.folder.path || folder.path.hasPrefix(inputs.folder.path + "/") {
            r.error(folderNode, "the output folder lies inside the input folder", hint: "outputs would be taken for studies; use a separate folder")
        }
        if let n = f["naming"], let pattern = r.string(n, "naming") {
            if let problem = NamingPattern.problem(in: pattern) {
                r.error(n, problem, hint: "placeholders: {study}, {series}, {pipeline}; e.g. \"{study}/{study}\"")
            } else {
                spec.naming = pattern
            }
        }
        if let n = f["writers"] {
            var writers: [WriterKind] = []
            let items = r.list(n, "writers")
            for item in items {
                guard let text = r.string(item, "writer") else { continue }
                guard let writer = WriterKind(rawValue: text) else {
                    let names = WriterKind.allCases.map(\.rawValue)
                    r.error(item, "unknown writer '\(text)'\(Suggestion.didYouMean(text, in: names))",
                            hint: "choose from \(names.joined(separator: ", "))")
                    continue
                }
                if writers.contains(writer) {
                    r.error(item, "writer '\(text)' is listed twice")
                    continue
                }
                if writer == .dicomSeg, let format = inputs?.format, format.fileFormat != nil {
                    r.error(item, "writer 'dicom-seg' needs DICOM inputs, but inputs.format is \(format.rawValue)",
                            hint: "use the 'nifti' or 'native' writer for file studies, or set format: dicom")
                }
                writers.append(writer)
            }
            if items.isEmpty { r.error(n, "'writers' must name at least one writer", hint: "e.g. writers: [nifti, report, qc]") }
            spec.writers = writers
        }
        if let n = f["summary"], let v = r.bool(n, "summary") { spec.summary = v }
        if let n = f["send"] {
            spec.send = readSend(n, &r)
            if !spec.writers.contains(.dicomSeg) {
                r.error(n, "outputs.send C-STOREs each study's DICOM SEG, but 'writers' has no dicom-seg",
                        hint: "add dicom-seg to writers, e.g. writers: [dicom-seg, report, qc]")
            }
        }
        if let n = f["stow"] {
            spec.stow = readStow(n, &r)
            if !spec.writers.contains(.dicomSeg) {
                r.error(n, "outputs.stow stores each study's DICOM SEG, but 'writers' has no dicom-seg",
                        hint: "add dicom-seg to writers, e.g. writers: [dicom-seg, report, qc]")
            }
        }
        return spec
    }

    static func readConcurrency(_ node: Node, _ r: inout NodeReader) -> ConcurrencySpec {
        var spec = ConcurrencySpec()
        guard let f = r.fields(node, in: "concurrency", allowed: ["threads", "queue_depth"]) else { return spec }
        if let n = f["threads"] {
            if n.scalar?.string == "auto" { spec.threads = nil } else if let v = r.int(n, "threads", in: 1...1024) { spec.threads = v }
        }
        if let n = f["queue_depth"], let v = r.int(n, "queue_depth", in: 1...64) { spec.queueDepth = v }
        return spec
    }

    static func readWatch(_ node: Node?, _ r: inout NodeReader, inputs: InputSpec?) -> WatchSpec? {
        let root = inputs?.folder ?? URL(fileURLWithPath: "/")
        var spec = WatchSpec(doneFolder: root.appendingPathComponent("done"), failedFolder: root.appendingPathComponent("failed"))
        guard let node else { return spec }
        guard let f = r.fields(node, in: "watch", allowed: ["settle", "poll", "done", "failed"]) else { return nil }
        if let n = f["settle"], let v = seconds(n, "settle", &r) { spec.settleSeconds = v }
        if let n = f["poll"], let v = seconds(n, "poll", &r) {
            if v <= 0 { r.error(n, "'poll' must be above 0 seconds") } else { spec.pollSeconds = v }
        }
        if let n = f["done"], let v = r.path(n, "done folder") { spec.doneFolder = v }
        if let n = f["failed"], let v = r.path(n, "failed folder") { spec.failedFolder = v }
        return spec
    }

    /// A duration: a number of seconds, or a number with s / m / h.
    static func seconds(_ node: Node, _ what: String, _ r: inout NodeReader) -> Double? {
        guard let text = r.string(node, what) else { return nil }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let v = Double(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v >= 0, v.isFinite {
                return v * scale
            }
        }
        if let v = Double(text), v >= 0, v.isFinite { return v }
        r.error(node, "'\(what)' must be a duration such as 10, 10s, 2m, got '\(text)'")
        return nil
    }
}
