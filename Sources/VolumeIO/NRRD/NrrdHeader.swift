import Foundation

/// A checked NRRD header (.nrrd with attached data, or .nhdr with a detached data file): what `inspect` shows and
/// what reading needs. Built by `NrrdHeader.parse`, which refuses anything it cannot read exactly with one line.
public struct NrrdHeader: StoredVolumeHeader {
    public var path: String
    public var shape: [Int]
    /// The `type` field as written (e.g. "short").
    public var typeName: String
    /// "raw", "gzip" or "text".
    public var encodingName: String
    public var spatial: NrrdSpatialHeader
    /// The data file: the header itself for .nrrd, the `data file` for .nhdr.
    public var dataFile: String
    /// Geometry a user should know about (a guessed orientation, a non-anatomical space).
    public var warnings: [String]
    /// The `key:=value` pairs (3D Slicer keeps segment names and colours there).
    public var keyValues: [String: String]
    var voxels: StoredVoxels

    public var affine: Affine { spatial.affine }
    var source: SourceGeometry { .nrrd(spatial) }

    /// The longest header read: NRRD headers are a few hundred bytes; a file without the blank line that ends the
    /// header within this is not NRRD.
    static let headerLimit = 1 << 20

    static func parse(_ path: String) throws -> NrrdHeader {
        let bytes = try HeaderChecks.leadingBytes(path, limit: headerLimit)
        func bad(_ reason: String) -> VolumeIOError { .invalidHeader(path: path, format: "NRRD", reason: reason) }
        guard bytes.count >= 8, let magic = String(bytes: bytes.prefix(8), encoding: .ascii), magic.hasPrefix("NRRD000"),
              let version = magic.last?.wholeNumberValue, (1...5).contains(version) else {
            throw bad("the file does not start with NRRD0001...NRRD0005")
        }
        // The header ends at the first empty line; the data of a .nrrd follows it.
        var lines: [String] = [], start = 0, dataOffset: Int?
        for n in bytes.indices where bytes[n] == 0x0a {
            var line = bytes[start..<n]
            if line.last == 0x0d { line = line.dropLast() }
            start = n + 1
            if line.isEmpty { dataOffset = start; break }
            guard let text = String(bytes: line, encoding: .utf8) else { throw bad("line \(lines.count + 1) is not text") }
            lines.append(text)
        }
        if dataOffset == nil, start < bytes.count, bytes.count < headerLimit,
           let text = String(bytes: bytes[start...], encoding: .utf8) {
            lines.append(text.trimmingCharacters(in: .newlines))   // a detached header may end without a newline
        }

        var fields: [String: (value: String, line: Int)] = [:], keyValues: [String: String] = [:]
        for (n, line) in lines.enumerated().dropFirst() where !line.hasPrefix("#") {
            if let range = line.range(of: ":=") {
                keyValues[String(line[..<range.lowerBound])] = String(line[range.upperBound...])
            } else if let range = line.range(of: ": ") {
                let name = line[..<range.lowerBound].lowercased()
                fields[name] = (line[range.upperBound...].trimmingCharacters(in: .whitespaces), n + 1)
            } else {
                throw bad("line \(n + 1) is neither 'field: value' nor 'key:=value': '\(line.prefix(60))'")
            }
        }
        func field(_ names: String...) -> String? { names.lazy.compactMap { fields[$0]?.value }.first }
        func integers(_ text: String, _ name: String) throws -> [Int] {
            let values = text.split(separator: " ").map { Int($0) }
            guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else { throw bad("\(name) '\(text)' is not a list of integers") }
            return values.map { $0! }
        }

        guard let dimensionText = field("dimension"), let dimension = Int(dimensionText) else { throw bad("no 'dimension' field") }
        guard dimension == 3 else {
            throw bad("dimension \(dimension): only 3D volumes are read (a 4D or multi-component NRRD must be split first)")
        }
        guard let sizesText = field("sizes") else { throw bad("no 'sizes' field") }
        let sizes = try integers(sizesText, "sizes")
        guard sizes.count == 3 else { throw bad("'sizes' has \(sizes.count) values for dimension 3") }
        let count = try HeaderChecks.voxelCount(sizes, path: path)
        guard let typeName = field("type") else { throw bad("no 'type' field") }
        guard let type = voxelType(typeName) else { throw bad("unsupported type '\(typeName)'") }

        let encodingText = (field("encoding") ?? "").lowercased()
        let encoding: StoredVoxels.Encoding
        switch encodingText {
        case "raw": encoding = .raw
        case "gzip", "gz": encoding = .compressed
        case "text", "txt", "ascii": encoding = .text
        case "": throw bad("no 'encoding' field")
        default: throw bad("unsupported encoding '\(encodingText)' (raw, gzip and text are read)")
        }
        var bigEndian = false
        switch field("endian")?.lowercased() {
        case "big": bigEndian = true
        case "little": bigEndian = false
        case nil where type.size == 1 || encoding == .text: break
        case nil: throw bad("no 'endian' field for \(type.size)-byte voxels")
        case let other?: throw bad("endian '\(other)' is neither little nor big")
        }
        if let lineSkip = field("line skip", "lineskip"), Int(lineSkip) != 0 {
            throw bad("'line skip: \(lineSkip)' is not supported")
        }
        let byteSkipText = field("byte skip", "byteskip") ?? "0"
        guard let byteSkip = Int(byteSkipText), byteSkip >= -1 else { throw bad("byte skip '\(byteSkipText)' is not valid") }
        if byteSkip == -1, encoding != .raw { throw bad("'byte skip: -1' needs raw encoding") }

        // Data: attached after the blank line, or a detached file named relative to the header.
        var dataFile = path, fileOffset: Int?
        if let name = field("data file", "datafile") {
            guard !name.hasPrefix("LIST"), name.split(separator: " ").count == 1 else {
                throw bad("data file '\(name)': lists and numbered files are not supported (one data file only)")
            }
            dataFile = name.hasPrefix("/") ? name
                : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
            fileOffset = byteSkip == -1 ? nil : (encoding == .compressed ? 0 : byteSkip)
        } else {
            guard let dataOffset else { throw bad("no blank line ends the header, and no 'data file' is named") }
            fileOffset = byteSkip == -1 ? nil : dataOffset + (encoding == .compressed ? 0 : byteSkip)
        }
        let voxels = StoredVoxels(path: path, dataFile: dataFile, fileOffset: fileOffset,
                                  skip: encoding == .compressed ? byteSkip : 0, encoding: encoding, type: type,
                                  bigEndian: bigEndian, count: count)

        var warnings: [String] = []
        let spatial = try spatialHeader(field, warnings: &warnings, bad: bad)
        _ = try HeaderChecks.geometry(spatial.affine, path: path, what: "the space directions")
        return NrrdHeader(path: path, shape: sizes, typeName: typeName,
                          encodingName: encoding == .compressed ? "gzip" : encodingText, spatial: spatial,
                          dataFile: dataFile, warnings: warnings, keyValues: keyValues, voxels: voxels)
    }

    /// `space`, `space directions` and `space origin`; without them, `spacings` along LPS axes at the origin (as ITK).
    private static func spatialHeader(_ field: (String...) -> String?, warnings: inout [String],
                                      bad: (String) -> VolumeIOError) throws -> NrrdSpatialHeader {
        var space = NrrdSpace.leftPosteriorSuperior
        if let name = field("space") {
            if NrrdSpace.timeSpaces.contains(name.lowercased()) { throw bad("space '\(name)' is 4D; only 3D volumes are read") }
            guard let named = NrrdSpace(named: name) else { throw bad("unknown space '\(name)'") }
            space = named
            if !named.isAnatomical {
                warnings.append("space '\(name)' has no anatomical meaning; its axes are read as LPS (as ITK reads them)")
            }
        } else if let dimension = field("space dimension") {
            guard dimension == "3" else { throw bad("space dimension \(dimension): only 3D spaces are read") }
            warnings.append("no named space; the axes are read as LPS (as ITK reads them)")
        }
        guard let directionsText = field("space directions") else {
            guard field("space") == nil, field("space dimension") == nil else { throw bad("a space is named but no 'space directions' given") }
            let spacingText = field("spacings") ?? "1 1 1"
            let spacings = spacingText.split(separator: " ").map { Double($0) }
            guard spacings.count == 3, spacings.allSatisfy({ $0 != nil && $0!.isFinite && $0! > 0 }) else {
                throw bad("spacings '\(spacingText)' are not three positive numbers")
            }
            warnings.append("no space directions: the orientation is a guess (LPS axes at the origin, as ITK)")
            return NrrdSpatialHeader(space: .leftPosteriorSuperior,
                                     directions: (0..<3).map { a in (0..<3).map { $0 == a ? spacings[a]! : 0 } },
                                     origin: [0, 0, 0])
        }
        let directions = try vectors(directionsText, bad: bad)
        guard directions.count == 3, directions.allSatisfy({ $0?.count == 3 }) else {
            throw bad("space directions '\(directionsText)' are not three 3D vectors (a 'none' axis means a non-spatial axis)")
        }
        var origin = [0.0, 0.0, 0.0]
        if let originText = field("space origin") {
            guard let parsed = try vectors(originText, bad: bad).first, let vector = parsed, vector.count == 3 else {
                throw bad("space origin '\(originText)' is not a 3D vector")
            }
            origin = vector
        }
        if let units = field("space units"),
           units.replacingOccurrences(of: "\"", with: "").split(separator: " ").contains(where: { $0 != "mm" }) {
            warnings.append("space units are \(units), not mm; coordinates are read as they are stored")
        }
        return NrrdSpatialHeader(space: space, directions: directions.map { $0! }, origin: origin)
    }

    /// `(x,y,z) none (x,y,z)`: a vector per token, nil for `none`.
    private static func vectors(_ text: String, bad: (String) -> VolumeIOError) throws -> [[Double]?] {
        var out: [[Double]?] = [], rest = Substring(text)
        while let first = rest.first(where: { $0 != " " && $0 != "\t" }) {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            if first == "(" {
                guard let close = rest.firstIndex(of: ")") else { throw bad("'\(text)' has an unclosed '('") }
                let values = rest[rest.index(after: rest.startIndex)..<close].split(separator: ",")
                    .map { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard values.allSatisfy({ $0 != nil && $0!.isFinite }) else { throw bad("'\(text)' holds a value that is not a finite number") }
                out.append(values.map { $0! })
                rest = rest[rest.index(after: close)...]
            } else if rest.lowercased().hasPrefix("none") {
                out.append(nil)
                rest = rest.dropFirst(4)
            } else {
                throw bad("'\(text)' is not a list of (x,y,z) vectors")
            }
        }
        return out
    }

    /// NRRD's type names (every spelling teem accepts for the types we read).
    static func voxelType(_ name: String) -> VoxelType? {
        switch name.lowercased() {
        case "signed char", "int8", "int8_t": .int8
        case "uchar", "unsigned char", "uint8", "uint8_t": .uint8
        case "short", "short int", "signed short", "signed short int", "int16", "int16_t": .int16
        case "ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t": .uint16
        case "int", "signed int", "int32", "int32_t": .int32
        case "uint", "unsigned int", "uint32", "uint32_t": .uint32
        case "longlong", "long long", "long long int", "signed long long", "signed long long int", "int64", "int64_t": .int64
        case "ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t": .uint64
        case "float": .float32
        case "double": .float64
        default: nil
        }
    }
}
