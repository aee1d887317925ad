import Foundation
import ZlibShim

/// A read-only view of the stored (uncompressed) entries of a zip archive, as `torch.save` writes them.
///
/// Only the central directory is trusted for sizes: torch's writer sets the data-descriptor flag, so the local
/// headers carry zeros. Compressed entries are refused (torch never writes them). ZIP64 end records are followed.
struct ZipArchive {
    struct Entry {
        let name: String
        let dataOffset: Int
        let size: Int
        let crc32: UInt32
    }

    let data: Data
    let entries: [String: Entry]
    let file: String

    init(data: Data, file: String) throws {
        self.data = data
        self.file = file
        self.entries = try data.withUnsafeBytes { try Self.readDirectory($0, file: file) }
    }

    /// The bytes of one entry, checked against its CRC-32.
    /// - Complexity: O(size).
    func contents(of name: String) throws -> Data {
        guard let entry = entries[name] else { throw UniverSegError(file: file, "archive has no entry '\(name)'") }
        let bytes = data.subdata(in: entry.dataOffset ..< entry.dataOffset + entry.size)
        guard Zlib.crc32(bytes) == entry.crc32 else {
            throw UniverSegError(file: file, "archive entry '\(name)' is corrupt (CRC mismatch)")
        }
        return bytes
    }

    private static func readDirectory(_ b: UnsafeRawBufferPointer, file: String) throws -> [String: Entry] {
        func fail(_ why: String) -> UniverSegError { UniverSegError(file: file, "not a readable zip archive: \(why)") }
        func u16(_ at: Int) -> Int { Int(b.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian) }
        func u32(_ at: Int) -> Int { Int(b.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian) }
        func u64(_ at: Int) throws -> Int {
            let v = b.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian
            guard v < UInt64(Int.max) else { throw fail("64-bit field out of range") }
            return Int(v)
        }

        // End of central directory: 22 bytes plus a comment of at most 65535 bytes.
        guard b.count >= 22 else { throw fail("file too short") }
        var eocd = -1
        for at in stride(from: b.count - 22, through: max(0, b.count - 22 - 65_535), by: -1) where u32(at) == 0x0605_4b50 {
            eocd = at
            break
        }
        guard eocd >= 0 else { throw fail("no end-of-central-directory record") }
        var count = u16(eocd + 10)
        var dirSize = u32(eocd + 12)
        var dirOffset = u32(eocd + 16)
        if count == 0xFFFF || dirSize == 0xFFFF_FFFF || dirOffset == 0xFFFF_FFFF {
            // ZIP64: a locator sits just before the classic record.
            let locator = eocd - 20
            guard locator >= 0, u32(locator) == 0x0706_4b50 else { throw fail("missing ZIP64 locator") }
            let record = try u64(locator + 8)
            // Bounds are compared by subtraction: the offsets are data and may be near Int.max.
            guard b.count >= 56, record <= b.count - 56, u32(record) == 0x0606_4b50 else { throw fail("bad ZIP64 record") }
            count = try u64(record + 32)
            dirSize = try u64(record + 40)
            dirOffset = try u64(record + 48)
        }
        guard dirOffset <= b.count, dirSize <= b.count - dirOffset else { throw fail("central directory out of bounds") }

        var entries: [String: Entry] = [:]
        var at = dirOffset
        for _ in 0 ..< count {
            guard at + 46 <= dirOffset + dirSize, u32(at) == 0x0201_4b50 else { throw fail("bad central directory entry") }
            let method = u16(at + 10)
            let crc = UInt32(u32(at + 16))
            var compressed = u32(at + 20)
            var size = u32(at + 24)
            let nameLength = u16(at + 28), extraLength = u16(at + 30), commentLength = u16(at + 32)
            var localOffset = u32(at + 42)
            guard at + 46 + nameLength + extraLength + commentLength <= b.count else { throw fail("entry name out of bounds") }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: b[at + 46 ..< at + 46 + nameLength]), as: UTF8.self)
            // ZIP64 extended information: the 0xFFFFFFFF fields follow in order size, compressed, offset.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let tag = u16(extra), length = u16(extra + 2)
                if tag == 0x0001 {
                    // Each 8-byte field must lie inside this extra block (a short block would read past it).
                    var field = extra + 4
                    let end = min(extraEnd, field + length)
                    func next() throws -> Int {
                        guard field + 8 <= end else { throw fail("entry '\(name)' has a short ZIP64 extra field") }
                        defer { field += 8 }
                        return try u64(field)
                    }
                    if size == 0xFFFF_FFFF { size = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next() }
                }
                extra += 4 + length
            }
            guard method == 0 else {
                throw UniverSegError(file: file, "archive entry '\(name)' is compressed (method \(method)); "
                    + "PyTorch checkpoints store entries uncompressed: re-save it with torch.save")
            }
            guard compressed == size else { throw fail("entry '\(name)' has inconsistent sizes") }
            guard b.count >= 30, localOffset <= b.count - 30, u32(localOffset) == 0x0403_4b50 else {
                throw fail("entry '\(name)' has no local header")
            }
            let dataOffset = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28)
            guard dataOffset <= b.count, size <= b.count - dataOffset else { throw fail("entry '\(name)' is truncated") }
            entries[name] = Entry(name: name, dataOffset: dataOffset, size: size, crc32: crc)
            at += 46 + nameLength + extraLength + commentLength
        }
        return entries
    }
}
