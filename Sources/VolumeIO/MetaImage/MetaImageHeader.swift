import Foundation

/// A checked MetaImage header (.mha with the data after it, or .mhd with a data file): what `inspect` shows and what
/// reading needs. Keys are matched in any case; `ElementDataFile` ends the header, as MetaIO requires.
public struct MetaImageHeader: StoredVolumeHeader {
    public var path: String
    public var shape: [Int]
    /// `ElementType` as written (e.g. "MET_SHORT").
    public var elementType: String
    public var compressed: Bool
    public var spatial: MetaImageSpatialHeader
    /// `AnatomicalOrientation` as written, or nil. Informational: ITK takes the geometry from TransformMatrix alone.
    public var anatomicalOrientation: String?
    public var dataFile: String
    public var warnings: [String]
    var voxels: StoredVoxels

    public var affine: Affine { spatial.affine }
    var source: SourceGeometry { .metaImage(spatial) }

    static let headerLimit = 1 << 16

    static func parse(_ path: String) throws -> MetaImageHeader {
        let bytes = try HeaderChecks.leadingBytes(path, limit: headerLimit)
        func bad(_ reason: String) -> VolumeIOError { .invalidHeader(path: path, format: "MetaImage", reason: reason) }
        var fields: [String: String] = [:], start = 0, dataOffset: Int?
        for n in bytes.indices where bytes[n] == 0x0a || n == bytes.count - 1 {
            let end = bytes[n] == 0x0a ? n : n + 1
            guard let line = String(bytes: bytes[start..<end], encoding: .utf8) else {
                throw bad("line \(fields.count + 1) is not text")
            }
            start = n + 1
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw bad("'\(trimmed.prefix(60))' is not 'Key = Value'")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            fields[key] = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if key == "elementdatafile" { dataOffset = start; break }
        }
        guard let dataName = fields["elementdatafile"], let dataOffset else {
            throw bad(fields.isEmpty ? "not a MetaImage header (no 'Key = Value' lines)" : "no ElementDataFile line ends the header")
        }
        func numbers(_ key: String, _ count: Int) throws -> [Double]? {
            guard let text = fields[key] else { return nil }
            let values = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { Double($0) }
            guard values.count == count, values.allSatisfy({ $0 != nil && $0!.isFinite }) else {
                throw bad("\(key) '\(text)' is not \(count) numbers")
            }
            return values.map { $0! }
        }
        func flag(_ keys: String...) throws -> Bool? {
            guard let text = keys.lazy.compactMap({ fields[$0] }).first else { return nil }
            switch text.lowercased() { case "true", "1": return true; case "false", "0": return false
            default: throw bad("\(keys[0]) '\(text)' is neither True nor False") }
        }

        if let type = fields["objecttype"], type.lowercased() != "image" { throw bad("ObjectType \(type) is not Image") }
        guard let dims = fields["ndims"] else { throw bad("no NDims") }
        guard dims == "3" else { throw bad("NDims \(dims): only 3D volumes are read") }
        if let channels = fields["elementnumberofchannels"], channels != "1" {
            throw bad("ElementNumberOfChannels \(channels): only one value per voxel is read")
        }
        guard let sizeValues = try numbers("dimsize", 3), sizeValues.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e15 }) else {
            throw bad(fields["dimsize"] == nil ? "no DimSize" : "DimSize is not three integers")
        }
        let shape = sizeValues.map { Int($0) }
        let count = try HeaderChecks.voxelCount(shape, path: path)
        guard let typeName = fields["elementtype"] else { throw bad("no ElementType") }
        guard let type = voxelType(typeName) else { throw bad("unsupported ElementType \(typeName)") }
        if try flag("binarydata") == false { throw bad("BinaryData = False (ASCII data) is not supported") }
        let bigEndian = try flag("elementbyteordermsb", "binarydatabyteordermsb") ?? false
        let compressed = try flag("compresseddata") ?? false

        let spacing = try numbers("elementspacing", 3) ?? numbers("elementsize", 3) ?? [1, 1, 1]
        guard spacing.allSatisfy({ $0 > 0 }) else { throw bad("ElementSpacing \(spacing) is not positive") }
        let offset = try numbers("offset", 3) ?? numbers("origin", 3) ?? numbers("position", 3) ?? [0, 0, 0]
        let matrix = try numbers("transformmatrix", 9) ?? numbers("rotation", 9) ?? numbers("orientation", 9)
            ?? [1, 0, 0, 0, 1, 0, 0, 0, 1]
        let spatial = MetaImageSpatialHeader(spacing: spacing, offset: offset, transformMatrix: matrix)
        _ = try HeaderChecks.geometry(spatial.affine, path: path, what: "the TransformMatrix")

        var dataFile = path, fileOffset: Int? = dataOffset
        if dataName.uppercased() != "LOCAL" {
            guard !dataName.uppercased().hasPrefix("LIST"), !dataName.contains("%"), !dataName.contains(" ") else {
                throw bad("ElementDataFile '\(dataName)': lists and numbered files are not supported (one data file only)")
            }
            dataFile = dataName.hasPrefix("/") ? dataName
                : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(dataName)
            let headerSize = Int(fields["headersize"] ?? "0") ?? 0
            guard headerSize >= -1 else { throw bad("HeaderSize \(headerSize) is not valid") }
            if headerSize == -1, compressed { throw bad("HeaderSize = -1 needs uncompressed data") }
            fileOffset = headerSize == -1 ? nil : headerSize
        }
        var warnings: [String] = []
        if fields["transformmatrix"] == nil, fields["rotation"] == nil, fields["orientation"] == nil {
            warnings.append("no TransformMatrix: the axes are read as LPS (as ITK)")
        }
        let voxels = StoredVoxels(path: path, dataFile: dataFile, fileOffset: fileOffset,
                                  encoding: compressed ? .compressed : .raw, type: type, bigEndian: bigEndian, count: count)
        return MetaImageHeader(path: path, shape: shape, elementType: typeName, compressed: compressed, spatial: spatial,
                               anatomicalOrientation: fields["anatomicalorientation"], dataFile: dataFile,
                               warnings: warnings, voxels: voxels)
    }

    /// MetaIO's element types (MET_LONG is 4 bytes in MetaIO, MET_LONG_LONG 8).
    static func voxelType(_ name: String) -> VoxelType? {
        switch name.uppercased() {
        case "MET_CHAR": .int8
        case "MET_UCHAR": .uint8
        case "MET_SHORT": .int16
        case "MET_USHORT": .uint16
        case "MET_INT", "MET_LONG": .int32
        case "MET_UINT", "MET_ULONG": .uint32
        case "MET_LONG_LONG": .int64
        case "MET_ULONG_LONG": .uint64
        case "MET_FLOAT": .float32
        case "MET_DOUBLE": .float64
        default: nil
        }
    }
}
