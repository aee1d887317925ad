import Foundation
import ZlibShim

/// A checked FreeSurfer MGH header (.mgh, or .mgz / .mgh.gz: the same file gzip-compressed). Big-endian; the voxel
/// data starts at byte 284, x fastest.
public struct MghHeader: StoredVolumeHeader {
    public var path: String
    public var shape: [Int]
    /// Frames (volumes) in the file; frame 0 is read.
    public var frames: Int
    /// MGH type code (0 UCHAR, 1 INT, 3 FLOAT, 4 SHORT, 10 USHRT).
    public var typeCode: Int32
    public var typeName: String
    public var goodRASFlag: Int16
    public var spatial: MghSpatialHeader
    public var compressed: Bool
    public var warnings: [String]
    var voxels: StoredVoxels

    public var affine: Affine { spatial.affine }
    var source: SourceGeometry { .mgh(spatial) }

    static let dataOffset = 284
    /// The fields we read: version, dims, type, dof, goodRASFlag, delta, Mdc, c_ras.
    static let fieldBytes = 90

    static func isCompressedName(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".mgz") || lower.hasSuffix(".mgh.gz")
    }

    static func parse(_ path: String) throws -> MghHeader {
        func bad(_ reason: String) -> VolumeIOError { .invalidHeader(path: path, format: "MGH", reason: reason) }
        let compressed = isCompressedName(path)
        let bytes: [UInt8]
        if compressed {
            let stream = try HeaderChecks.leadingBytes(path, limit: 1 << 20)
            do throws(Zlib.InflateError) {
                bytes = try Zlib.inflated(Data(stream), limit: fieldBytes)
            } catch {
                throw bad("not a gzip-compressed MGH file (\(error.reason))")
            }
        } else {
            bytes = try HeaderChecks.leadingBytes(path, limit: fieldBytes)
        }
        guard bytes.count >= fieldBytes else { throw bad("the file has \(bytes.count) bytes, fewer than an MGH header") }
        func int32(_ at: Int) -> Int32 { Int32(bitPattern: bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) }) }
        func int16(_ at: Int) -> Int16 { Int16(bitPattern: UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])) }
        func float(_ at: Int) -> Float { Float(bitPattern: UInt32(bitPattern: int32(at))) }

        guard int32(0) == 1 else { throw bad("version \(int32(0)), expected 1") }
        let dims = (0..<4).map { Int(int32(4 + 4 * $0)) }
        guard dims[3] >= 1 else { throw bad("\(dims[3]) frames") }
        let shape = Array(dims.prefix(3))
        let count = try HeaderChecks.voxelCount(shape, path: path)
        let typeCode = int32(20)
        let types: [Int32: (VoxelType, String)] = [0: (.uint8, "UCHAR"), 1: (.int32, "INT"), 3: (.float32, "FLOAT"),
                                                   4: (.int16, "SHORT"), 10: (.uint16, "USHRT")]
        guard let (type, typeName) = types[typeCode] else { throw bad("unsupported data type code \(typeCode)") }
        let (frameBytes, overflow) = (count * type.size).multipliedReportingOverflow(by: dims[3])
        guard !overflow, frameBytes < Int(Int64.max / 2) else { throw bad("\(dims[3]) frames overflow the byte count") }

        let goodRAS = int16(28)
        var warnings: [String] = []
        var spatial = MghSpatialHeader(spacing: (0..<3).map { float(30 + 4 * $0) },
                                       directions: (0..<9).map { float(42 + 4 * $0) },
                                       centre: (0..<3).map { float(78 + 4 * $0) }, shape: shape)
        if goodRAS <= 0 {
            // As FreeSurfer's mghRead: without valid RAS fields the geometry is its coronal default (nibabel 5.4
            // differs: it transposes that default).
            spatial = .unknown(shape: shape)
            warnings.append("goodRASFlag is \(goodRAS): no valid geometry in the header; using FreeSurfer's coronal default (1 mm, LIA, centred)")
        }
        if dims[3] > 1 { warnings.append("\(dims[3]) frames: frame 0 is read") }
        _ = try HeaderChecks.geometry(spatial.affine, path: path, what: "the vox2ras from delta, Mdc and c_ras")
        let voxels = StoredVoxels(path: path, dataFile: path, fileOffset: compressed ? 0 : dataOffset,
                                  skip: compressed ? dataOffset : 0, encoding: compressed ? .compressed : .raw,
                                  type: type, bigEndian: true, count: count)
        return MghHeader(path: path, shape: shape, frames: dims[3], typeCode: typeCode, typeName: typeName,
                         goodRASFlag: goodRAS, spatial: spatial, compressed: compressed, warnings: warnings, voxels: voxels)
    }
}
