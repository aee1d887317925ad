import Foundation
import Testing
import ZlibShim

/// The chunked, multi-threaded gzip the NIfTI writer uses: one valid gzip member whatever the chunking, the same
/// bytes for any thread count, read back by zlib and by the system's `gzip`.
@Suite struct ParallelGzipTests {
    static func sample(_ count: Int) -> [UInt8] {
        // Compressible but not trivial: a slow wave plus a little pseudo-random noise.
        var state: UInt32 = 12345
        return (0 ..< count).map { i in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: Int(100 + 80 * sin(Double(i) / 50)) + Int(state >> 29))
        }
    }

    @Test(arguments: [0, 1, 999, 1000, 1001, 12345])
    func chunksFormOneStream(_ count: Int) throws {
        let bytes = Self.sample(count)
        let one = bytes.withUnsafeBytes { Zlib.gzipped($0, level: 6, threads: 1, chunkBytes: 1000) }
        let three = bytes.withUnsafeBytes { Zlib.gzipped($0, level: 6, threads: 3, chunkBytes: 1000) }
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
}
