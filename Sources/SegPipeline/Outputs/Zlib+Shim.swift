import CZlib
import Foundation

/// zlib (RFC 1950) compression, the stream format PNG's IDAT chunks hold. The only file that calls zlib.
enum Zlib {
    static func compressed(_ bytes: [UInt8], level: Int32 = 6) -> Data {
        var capacity = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(capacity))
        let status = bytes.withUnsafeBufferPointer { source in
            compress2(&out, &capacity, source.baseAddress, uLong(bytes.count), level)
        }
        // compressBound guarantees room and the arguments are valid, so only memory exhaustion could fail here.
        precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
        return Data(out.prefix(Int(capacity)))
    }
}
