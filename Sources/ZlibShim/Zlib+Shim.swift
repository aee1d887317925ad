internal import CZlib
import Foundation

/// zlib, the only file that calls it: RFC 1950 compression (the stream PNG's IDAT chunks hold) and CRC-32 (ISO-HDLC,
/// the checksum of PNG chunks and zip entries).
public enum Zlib {
    /// `bytes` compressed as one zlib stream. The corresponding C function is `compress2`.
    public static func compressed(_ bytes: [UInt8], level: Int32 = 6) -> Data {
        var capacity = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(capacity))
        let status = bytes.withUnsafeBufferPointer { source in
            compress2(&out, &capacity, source.baseAddress, uLong(bytes.count), level)
        }
        // compressBound guarantees room and the arguments are valid, so only memory exhaustion could fail here.
        precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
        return Data(out.prefix(Int(capacity)))
    }

    /// CRC-32 of `bytes`; 0xCBF43926 for the ASCII digits "123456789". The corresponding C function is `crc32_z`.
    /// - Complexity: O(n).
    public static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        return UInt32(crc32_z(0, base.assumingMemoryBound(to: Bytef.self), bytes.count))
    }

    /// CRC-32 of `data` (see `crc32(_:)` on a buffer).
    public static func crc32<D: DataProtocol>(_ data: D) -> UInt32 {
        if let result = data.withContiguousStorageIfAvailable({ crc32(UnsafeRawBufferPointer($0)) }) { return result }
        return Array(data).withUnsafeBytes { crc32($0) }
    }
}
