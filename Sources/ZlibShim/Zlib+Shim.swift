internal import CZlib
import Dispatch
import Foundation

/// Input bytes read by several compression threads at once (never written), hence the unchecked conformance.
private struct UnsafeSendableBytes: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
}

/// Result slots that several compression threads fill, each thread only its own index, hence the unchecked
/// conformance.
private struct UnsafeSendableSlots<Element>: @unchecked Sendable {
    let slots: UnsafeMutableBufferPointer<Element>
}

/// zlib, the only file that calls it: RFC 1950 compression (the stream PNG's IDAT chunks hold), gzip (RFC 1952) for
/// NRRD and MGZ, bounded decompression of either, and CRC-32 (ISO-HDLC, the checksum of PNG chunks and zip entries).
public enum Zlib {
    /// How deflate looks for repeats: `runLength` only at distance 1 (zlib's Z_RLE), which is several times
    /// faster on data with few long repeats (float maps) and compresses those about as well.
    public enum Strategy: Sendable {
        case standard, runLength

        var value: Int32 { self == .standard ? Z_DEFAULT_STRATEGY : Z_RLE }
    }

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

    /// `bytes` compressed as one gzip member (what `gzip` writes and NRRD's gzip encoding and .mgz hold).
    /// The corresponding C functions are `deflateInit2_`, `deflate` and `deflateEnd`.
    public static func gzipped(_ bytes: [UInt8], level: Int32 = 6) -> Data {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { deflateEnd(stream); stream.deinitialize(count: 1); stream.deallocate() }
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        var status = deflateInit2_(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                                   Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "zlib deflateInit2 failed with status \(status)")
        var out = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(bytes.count))) + 32)
        let produced: Int = bytes.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.pointee.avail_in = uInt(source.count)
                stream.pointee.next_out = target.baseAddress
                stream.pointee.avail_out = uInt(target.count)
                status = deflate(stream, Z_FINISH)
                return target.count - Int(stream.pointee.avail_out)
            }
        }
        // deflateBound guarantees room, so one Z_FINISH call ends the stream.
        precondition(status == Z_STREAM_END, "zlib deflate failed with status \(status)")
        return Data(out.prefix(produced))
    }

    /// Streams `pieces`, read as one byte sequence, to `write` as one gzip member compressed in independent chunks
    /// of at most `chunkBytes` (each piece starts a new chunk) on up to `threads` threads, as pigz does: each chunk is
    /// a raw deflate stream ended by a sync flush (the last by the final block), so their concatenation is one valid
    /// deflate stream, and the chunks' CRC-32s are combined. At most `threads` compressed chunks are held at once.
    /// The bytes depend only on the input, `level`, `strategy` and `chunkBytes`, never on `threads`. Returns false as soon as
    /// `write` does (a short write). The corresponding C functions are `deflateInit2_`, `deflate`, `deflateEnd`,
    /// `crc32_z` and `crc32_combine`.
    public static func writeGzip(_ pieces: [UnsafeRawBufferPointer], level: Int32, strategy: Strategy = .standard,
                                 threads: Int, chunkBytes: Int = 1 << 20,
                                 to write: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        let pieceChunks = pieces.flatMap { piece in
            stride(from: 0, to: piece.count, by: chunkBytes).map {
                UnsafeSendableBytes(UnsafeRawBufferPointer(rebasing: piece[$0 ..< min(piece.count, $0 + chunkBytes)]))
            }
        }
        let chunks = pieceChunks.isEmpty ? [UnsafeSendableBytes(UnsafeRawBufferPointer(start: nil, count: 0))] : pieceChunks
        // RFC 1952 header: magic, deflate, no flags, no mtime, no extra flags, OS 3 (Unix).
        let header: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]
        guard header.withUnsafeBytes({ write($0) }) else { return false }
        var crc: uLong = 0, total = 0
        let batch = max(1, threads)
        for first in stride(from: 0, to: chunks.count, by: batch) {
            let count = min(batch, chunks.count - first), last = chunks.count - 1
            var done = [(deflated: [UInt8], crc: uLong)](repeating: ([], 0), count: count)
            done.withUnsafeMutableBufferPointer { slots in
                let parts = UnsafeSendableSlots(slots: slots)
                DispatchQueue.concurrentPerform(iterations: count) { i in
                    let chunk = chunks[first + i].bytes
                    parts.slots[i] = (deflateRaw(chunk, level: level, strategy: strategy, last: first + i == last),
                                      crc32Value(chunk))
                }
            }
            for i in 0 ..< count {
                let part = done[i]
                guard part.deflated.withUnsafeBytes({ write($0) }) else { return false }
                let length = chunks[first + i].bytes.count
                crc = crc32_combine(crc, part.crc, off_t(length))   // from 0: the CRC of nothing
                total += length
            }
        }
        var trailer: [UInt8] = []
        for value in [UInt32(crc), UInt32(truncatingIfNeeded: total)] { withUnsafeBytes(of: value.littleEndian) { trailer += $0 } }
        return trailer.withUnsafeBytes { write($0) }
    }

    /// One chunk as raw deflate: ended by a sync flush (byte-aligned, not final) or, for the last, the final block.
    private static func deflateRaw(_ chunk: UnsafeRawBufferPointer, level: Int32, strategy: Strategy, last: Bool) -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { deflateEnd(stream); stream.deinitialize(count: 1); stream.deallocate() }
        var status = deflateInit2_(stream, level, Z_DEFLATED, -15, 8, strategy.value, ZLIB_VERSION,
                                   Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "zlib deflateInit2 failed with status \(status)")
        // deflateBound covers the data; the sync flush adds an empty stored block (5 bytes) at most twice.
        var out = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(chunk.count))) + 16)
        let produced: Int = out.withUnsafeMutableBufferPointer { target in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: chunk.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(chunk.count)
            stream.pointee.next_out = target.baseAddress
            stream.pointee.avail_out = uInt(target.count)
            status = deflate(stream, last ? Z_FINISH : Z_SYNC_FLUSH)
            return target.count - Int(stream.pointee.avail_out)
        }
        precondition(status == (last ? Z_STREAM_END : Z_OK) && stream.pointee.avail_in == 0,
                     "zlib deflate failed with status \(status)")
        return Array(out.prefix(produced))
    }

    private static func crc32Value(_ chunk: UnsafeRawBufferPointer) -> uLong {
        guard let base = chunk.baseAddress, !chunk.isEmpty else { return 0 }
        return crc32_z(0, base.assumingMemoryBound(to: Bytef.self), chunk.count)
    }

    /// Why compressed data could not be decompressed.
    public struct InflateError: Error, Equatable, Sendable {
        public var reason: String
    }

    /// Decompresses a zlib or gzip stream (detected from its first bytes; concatenated gzip members are read one
    /// after another) and returns at most `limit` bytes: the caller's limit comes from dimensions it has checked, so
    /// a stream claiming more can never make it allocate more. Fewer bytes come back when the stream ends first.
    /// Throws when the data is corrupt or ends in the middle of a stream before `limit` bytes were produced.
    /// The corresponding C functions are `inflateInit2_`, `inflate`, `inflateReset` and `inflateEnd`.
    public static func inflated(_ data: Data, limit: Int) throws(InflateError) -> [UInt8] {
        precondition(limit >= 0)
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { inflateEnd(stream); stream.deinitialize(count: 1); stream.deallocate() }
        // windowBits 15 + 32: accept both zlib and gzip headers.
        guard inflateInit2_(stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw InflateError(reason: "zlib could not start decompressing")
        }
        var out = [UInt8](repeating: 0, count: limit)
        let input = [UInt8](data)
        var failure: String?
        let produced: Int = input.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.pointee.avail_in = uInt(source.count)
                stream.pointee.next_out = target.baseAddress
                stream.pointee.avail_out = uInt(target.count)
                while stream.pointee.avail_out > 0 {
                    let status = inflate(stream, Z_NO_FLUSH)
                    if status == Z_STREAM_END {
                        // Another gzip member may follow (files made with `cat a.gz b.gz`).
                        let rest = Int(stream.pointee.avail_in)
                        guard rest >= 2, stream.pointee.next_in[0] == 0x1f, stream.pointee.next_in[1] == 0x8b else { break }
                        inflateReset(stream)
                        continue
                    }
                    if status == Z_OK { continue }
                    if status == Z_BUF_ERROR, stream.pointee.avail_in == 0 {
                        failure = "the compressed data ends early"
                    } else {
                        failure = stream.pointee.msg.map { "corrupt compressed data (\(String(cString: $0)))" }
                            ?? "corrupt compressed data (zlib status \(status))"
                    }
                    break
                }
                return target.count - Int(stream.pointee.avail_out)
            }
        }
        if let failure, produced < limit { throw InflateError(reason: failure) }
        return Array(out.prefix(produced))
    }
}
