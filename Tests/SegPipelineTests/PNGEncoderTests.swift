import CZlib
import Foundation
import ZlibShim
import Testing
@testable import SegPipeline

@Suite struct PNGEncoderTests {
    @Test func paethPicksTheNeighbourNearestTheGradientEstimate() {
        #expect(PNGEncoder.paeth(10, 20, 10) == 20)   // p = 20: above
        #expect(PNGEncoder.paeth(20, 10, 10) == 20)   // p = 20: left
        #expect(PNGEncoder.paeth(10, 12, 20) == 10)   // p = 2: left is nearest
        #expect(PNGEncoder.paeth(5, 5, 5) == 5)       // ties go to left
    }

    /// Images with flat areas, gradients and noise (every filter type wins somewhere) decode to their exact pixels
    /// with an independent reader: zlib's inflate plus the spec's reconstruction of each filter type.
    @Test(arguments: [(3, 2), (1, 1), (97, 41), (300, 200)])
    func encodedImagesDecodeToTheirPixels(size: (Int, Int)) throws {
        let (width, height) = size
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        var state: UInt32 = 12_345
        for y in 0..<height {
            for x in 0..<width {
                state = state &* 1_664_525 &+ 1_013_904_223
                let i = (y * width + x) * 3
                rgb[i] = x < width / 2 ? 40 : UInt8(truncatingIfNeeded: x * 3)              // flat, then ramp
                rgb[i + 1] = UInt8(truncatingIfNeeded: y * 5 + x)                         // diagonal gradient
                rgb[i + 2] = y % 7 == 0 ? UInt8(truncatingIfNeeded: state >> 24) : 200    // noisy rows
            }
        }
        let png = PNGEncoder.encode(width: width, height: height, rgb: rgb)
        let decoded = try Self.decode(png)
        #expect(decoded.width == width && decoded.height == height)
        #expect(decoded.rgb == rgb)
        if width * height > 10_000 { #expect(png.count < rgb.count / 2) }  // compressed, not stored
    }

    @Test func filteringUsesMoreThanOneFilterType() {
        let width = 64, height = 8
        let rgb = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: ($0 / 3 % width) * 4 + ($0 / (width * 3)) * 9) }
        let lines = PNGEncoder.filteredScanlines(width: width, height: height, rgb: rgb)
        let types = Set(stride(from: 0, to: lines.count, by: width * 3 + 1).map { lines[$0] })
        #expect(types.count > 1 && types.isSubset(of: [0, 1, 2, 3, 4]))
    }

    // MARK: - an independent decoder for 8-bit RGB PNGs

    struct DecodeError: Error { var reason: String }

    static func decode(_ png: Data) throws -> (width: Int, height: Int, rgb: [UInt8]) {
        let bytes = [UInt8](png)
        guard bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { throw DecodeError(reason: "signature") }
        var offset = 8, width = 0, height = 0, idat = [UInt8](), sawEnd = false
        func u32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        while offset < bytes.count {
            let length = u32(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let payload = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            guard UInt32(u32(offset + 8 + length)) == Zlib.crc32(bytes[(offset + 4)..<(offset + 8 + length)]) else {
                throw DecodeError(reason: "CRC of \(type)")
            }
            switch type {
            case "IHDR":
                width = Array(payload[0..<4]).reduce(0) { $0 << 8 | Int($1) }
                height = Array(payload[4..<8]).reduce(0) { $0 << 8 | Int($1) }
                guard payload[8...] == [8, 2, 0, 0, 0] else { throw DecodeError(reason: "not 8-bit RGB") }
            case "IDAT": idat += payload
            case "IEND": sawEnd = true
            default: throw DecodeError(reason: "unexpected chunk \(type)")
            }
            offset += 12 + length
        }
        guard sawEnd else { throw DecodeError(reason: "no IEND") }
        let stride = width * 3
        var raw = [UInt8](repeating: 0, count: (stride + 1) * height)
        var rawLength = uLongf(raw.count)
        guard uncompress(&raw, &rawLength, idat, uLong(idat.count)) == Z_OK, Int(rawLength) == raw.count else {
            throw DecodeError(reason: "inflate")
        }
        var rgb = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for i in 0..<stride {
                let x = raw[y * (stride + 1) + 1 + i]
                let a = i >= 3 ? Int(rgb[y * stride + i - 3]) : 0
                let b = y > 0 ? Int(rgb[(y - 1) * stride + i]) : 0
                let c = y > 0 && i >= 3 ? Int(rgb[(y - 1) * stride + i - 3]) : 0
                let p = a + b - c
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4: predictor = abs(p - a) <= abs(p - b) && abs(p - a) <= abs(p - c) ? a : (abs(p - b) <= abs(p - c) ? b : c)
                default: throw DecodeError(reason: "filter type \(filter)")
                }
                rgb[y * stride + i] = UInt8((Int(x) + predictor) & 0xFF)
            }
        }
        return (width, height, rgb)
    }
}
