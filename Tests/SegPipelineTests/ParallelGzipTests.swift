import Foundation
import Testing
import ZlibShim

/// The chunked, multi-threaded gzip the NIfTI writer streams: one valid gzip member whatever the chunking, the same
/// bytes for any thread count, read back by zlib and by the system's `gzip`; a failing write stops it.
@Suite struct ParallelGzipTests {
    static func sample(_ count: Int) -> [UInt8] {
        // Compressible but not trivial: a slow wave plus a little pseudo-random noise.
        var state: UInt32 = 12345
        return (0 ..< count).map { i in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: Int(100 + 80 * sin(Double(i) / 50)) + Int(state >> 29))
        }
    }

    @Test(arguments: [0, 1, 999, 1000, 1001, 12345], [Zlib.Strategy.standard, .runLength])
    func chunksFormOneStream(_ count: Int, strategy: Zlib.Strategy) throws {
        let bytes = Self.sample(count)
        // Two pieces, as the NIfTI writer passes its header and voxels: the first starts the chunking again.
        let split = min(count, 333)
        func gzip(threads: Int) -> Data {
            var out = Data()
            let ok = bytes.withUnsafeBytes { all in
                Zlib.writeGzip([UnsafeRawBufferPointer(rebasing: all[..<split]), UnsafeRawBufferPointer(rebasing: all[split...])],
                               level: 6, strategy: strategy, threads: threads, chunkBytes: 1000) { out.append(contentsOf: $0); return true }
            }
            #expect(ok)
            return out
        }
        let one = gzip(threads: 1), three = gzip(threads: 3)
        #expect(one == three)
        #expect(try Zlib.inflated(one, limit: count + 10) == bytes)

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pgz-\(UUID().uuidString).gz")
        defer { try? FileManager.default.removeItem(at: file) }
        try one.write(to: file)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-dc", file.path]
        let output = Pipe()
        gzip.standardOutput = output
        try gzip.run()
        let decoded = output.fileHandleForReading.readDataToEndOfFile()
        gzip.waitUntilExit()
        #expect(gzip.terminationStatus == 0, "gzip rejected the stream (CRC, length or deflate data)")
        #expect([UInt8](decoded) == bytes)
    }

    /// The strategy reaches zlib: run-length matching finds none of the wave's longer-distance repeats.
    @Test func theStrategyChangesTheStream() {
        let bytes = Self.sample(12345)
        func size(_ strategy: Zlib.Strategy) -> Int {
            var total = 0
            _ = bytes.withUnsafeBytes { all in
                Zlib.writeGzip([all], level: 6, strategy: strategy, threads: 1) { total += $0.count; return true }
            }
            return total
        }
        #expect(size(.runLength) != size(.standard))
    }

    @Test func aShortWriteStopsTheStream() {
        let bytes = Self.sample(5000)
        var calls = 0
        let ok = bytes.withUnsafeBytes { all in
            Zlib.writeGzip([all], level: 6, threads: 2, chunkBytes: 1000) { _ in calls += 1; return calls < 3 }
        }
        #expect(!ok)
        #expect(calls == 3)
    }
}
