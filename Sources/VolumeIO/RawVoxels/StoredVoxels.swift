import Foundation
import ZlibShim

/// Where and how a NRRD, MetaImage or MGH file keeps its voxels, once its header has been checked: the one reader of
/// voxel bytes for those formats. Nothing is allocated beyond what the checked dimensions imply, whatever the file
/// claims elsewhere.
struct StoredVoxels: Sendable {
    enum Encoding: Sendable, Equatable {
        case raw
        /// zlib or gzip (detected from the stream).
        case compressed
        /// Numbers as text, separated by white space (NRRD's ascii encoding).
        case text
    }

    /// The file the error messages name (the header).
    var path: String
    /// The file holding the data (the header itself for single-file formats).
    var dataFile: String
    /// Where the (raw or compressed) data begins in `dataFile`; nil for raw data that ends the file (NRRD
    /// `byte skip: -1`, MetaImage `HeaderSize = -1`).
    var fileOffset: Int?
    /// Bytes skipped after decoding (NRRD `byte skip` on compressed data; the header inside an .mgz).
    var skip: Int = 0
    var encoding: Encoding
    var type: VoxelType
    var bigEndian: Bool
    /// Voxels of the 3D grid (already checked against `NiftiReader.maximumVoxels`).
    var count: Int

    var byteCount: Int { count * type.size }

    /// The voxels as Float (integers convert exactly up to 2^24, as NIfTI's reader does).
    func floats() throws -> [Float] {
        if encoding == .text { return try textValues().map { Float($0) } }
        let bytes = try storedBytes()
        return bytes.withUnsafeBytes { raw in (0..<count).map { Float(type.value(raw, $0, bigEndian: bigEndian)) } }
    }

    /// The voxels as labels: integers exactly (outside Int32 fails), floats within `NiftiReader.labelTolerance` of
    /// an integer; `shape` names the first bad voxel in the error.
    func labels(shape: [Int]) throws -> [Int32] {
        let text = encoding == .text ? try textValues() : []
        let bytes = encoding == .text ? [] : try storedBytes()
        var out = [Int32](repeating: 0, count: count)
        var bad: (index: Int, value: Double)?
        bytes.withUnsafeBytes { raw in
            for n in 0..<count {
                let v = encoding == .text ? text[n] : type.value(raw, n, bigEndian: bigEndian)
                let r = v.rounded()
                if v.isFinite, abs(v - r) <= NiftiReader.labelTolerance, r >= Double(Int32.min), r <= Double(Int32.max) {
                    out[n] = Int32(r)
                } else if bad == nil {
                    bad = (n, v)
                }
            }
        }
        if let bad {
            let i = bad.index % shape[0], j = (bad.index / shape[0]) % shape[1], k = bad.index / (shape[0] * shape[1])
            throw VolumeIOError.notALabelMap(path: path, reason: "value \(bad.value) at voxel (\(i), \(j), \(k)) is not an integer in Int32 range")
        }
        return out
    }

    /// Exactly `byteCount` bytes of voxel data, read or decompressed; truncation and corruption throw.
    func storedBytes() throws -> [UInt8] {
        let name = (dataFile as NSString).lastPathComponent
        let size = try Self.fileSize(dataFile, header: path, expected: byteCount)
        switch encoding {
        case .raw, .text:
            let offset = fileOffset ?? (size - byteCount)
            guard offset >= 0, size - offset >= skip + byteCount else {
                throw VolumeIOError.truncatedData(path: path, expectedBytes: byteCount,
                                                  reason: "\(name) has \(max(0, size - max(offset, 0) - skip)) bytes of data")
            }
            return try Self.read(dataFile, at: offset + skip, count: byteCount, header: path)
        case .compressed:
            let offset = fileOffset ?? 0
            let compressedSize = size - offset
            // Deflate cannot expand more than 1032:1: a small stream cannot hold a large volume, so refuse before
            // allocating for it (as `NiftiReader` does for .nii.gz).
            guard compressedSize > 0, Double(skip + byteCount) <= Double(compressedSize) * 1032 + 4096 else {
                throw VolumeIOError.truncatedData(path: path, expectedBytes: byteCount,
                                                  reason: "\(name) has only \(max(compressedSize, 0)) compressed bytes")
            }
            let stream = try Self.read(dataFile, at: offset, count: compressedSize, header: path)
            let decoded: [UInt8]
            do throws(Zlib.InflateError) {
                decoded = try Zlib.inflated(Data(stream), limit: skip + byteCount)
            } catch {
                throw VolumeIOError.truncatedData(path: path, expectedBytes: byteCount, reason: "\(name): \(error.reason)")
            }
            guard decoded.count == skip + byteCount else {
                throw VolumeIOError.truncatedData(path: path, expectedBytes: byteCount,
                                                  reason: "\(name) decompresses to \(max(0, decoded.count - skip)) bytes of data")
            }
            return Array(decoded[skip...])
        }
    }

    /// `count` numbers written as text after `fileOffset` (+ `skip` bytes).
    private func textValues() throws -> [Double] {
        let size = try Self.fileSize(dataFile, header: path, expected: byteCount)
        let offset = (fileOffset ?? 0) + skip
        guard offset <= size else {
            throw VolumeIOError.truncatedData(path: path, expectedBytes: count, reason: "no text data after the header")
        }
        // Each number takes at least two characters (digit and separator), so the text is bounded by the count.
        let bytes = try Self.read(dataFile, at: offset, count: min(size - offset, count * 64 + 64), header: path)
        var values: [Double] = []
        values.reserveCapacity(count)
        for token in bytes.split(whereSeparator: { $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 || $0 == 0x2c }) {
            guard values.count < count else { break }
            guard let v = Double(String(decoding: token, as: UTF8.self)) else {
                throw VolumeIOError.truncatedData(path: path, expectedBytes: count,
                                                  reason: "'\(String(decoding: token.prefix(20), as: UTF8.self))' is not a number")
            }
            values.append(v)
        }
        guard values.count == count else {
            throw VolumeIOError.truncatedData(path: path, expectedBytes: count, reason: "found only \(values.count) numbers")
        }
        return values
    }

    /// The size of `file` (of the target of a symbolic link); a missing data file names itself.
    static func fileSize(_ file: String, header: String, expected: Int) throws -> Int {
        let target = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
        guard let size = (try? FileManager.default.attributesOfItem(atPath: target))?[.size] as? Int else {
            throw VolumeIOError.truncatedData(path: header, expectedBytes: expected,
                                              reason: "data file \((file as NSString).lastPathComponent) is missing")
        }
        return size
    }

    /// Exactly `count` bytes of `file` from `offset`.
    static func read(_ file: String, at offset: Int, count: Int, header: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw VolumeIOError.truncatedData(path: header, expectedBytes: count,
                                              reason: "cannot open data file \((file as NSString).lastPathComponent)")
        }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else {
                throw VolumeIOError.truncatedData(path: header, expectedBytes: count, reason: "read only \(data.count) bytes")
            }
            return [UInt8](data)
        } catch let error as VolumeIOError {
            throw error
        } catch {
            throw VolumeIOError.truncatedData(path: header, expectedBytes: count, reason: error.localizedDescription)
        }
    }
}
