import Foundation
import Testing
import ZlibShim
@testable import SegPipeline

/// The two checksums the code uses, each against published check values.
@Suite struct ChecksumTests {
    /// FNV-1a 64 test vectors from the reference implementation (Noll, fnv_test.c).
    @Test func fnv1aMatchesThePublishedVectors() {
        #expect(FNV1a.hex("") == "cbf29ce484222325")
        #expect(FNV1a.hex("a") == "af63dc4c8601ec8c")
        #expect(FNV1a.hex("foobar") == "85944171f73967e8")
        #expect(FNV1a.hex(Data("foobar".utf8)) == "85944171f73967e8")
    }

    /// zlib's CRC-32 (ISO-HDLC): the check value of "123456789", on every container the callers pass.
    @Test func crc32MatchesItsCheckValue() {
        let digits = Array("123456789".utf8)
        #expect(Zlib.crc32(digits) == 0xCBF4_3926)
        #expect(Zlib.crc32(Data(digits)) == 0xCBF4_3926)
        #expect(Zlib.crc32(Data([0, 0] + digits).dropFirst(2)) == 0xCBF4_3926)
        #expect(Zlib.crc32(([0] + digits)[1...]) == 0xCBF4_3926)
        #expect(Zlib.crc32(Data()) == 0)
    }
}
