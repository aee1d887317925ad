import Foundation
import Testing
@testable import SegPipeline

@Suite struct PNGEncoderTests {
    /// A 3 x 2 image: red, green, blue / black, grey, white.
    static let pixels: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 128, 128, 128, 255, 255, 255]

    @Test func smallImageMatchesBytesCheckedWithPillow() {
        // Decoded once with Pillow 13 (Image.open(...).getdata() gave exactly `pixels`); pinned so changes show.
        let png = PNGEncoder.encode(width: 3, height: 2, rgb: Self.pixels)
        #expect(png.map { String(format: "%02x", $0) }.joined() == Self.golden)
    }

    @Test func checksumsMatchTheirStandardTestVectors() {
        #expect(PNGEncoder.crc32(Array("123456789".utf8)) == 0xCBF4_3926)  // the CRC-32 check value
        #expect(PNGEncoder.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
    }

    @Test func imagesLargerThanOneStoredBlockSplitIntoBlocks() {
        let width = 200, height = 150  // 90,150 bytes of scanlines: two stored blocks
        let rgb = (0..<(width * height * 3)).map { UInt8($0 % 251) }
        let zlib = PNGEncoder.zlibStored([UInt8](repeating: 7, count: 70_000))
        #expect(zlib.count == 2 + 2 * 5 + 70_000 + 4)
        #expect(zlib[2] == 0 && zlib[2 + 5 + 65_535] == 1)  // first block not final, second final
        let png = PNGEncoder.encode(width: width, height: height, rgb: rgb)
        #expect(png.count == 8 + (12 + 13) + (12 + 2 + 2 * 5 + (width * 3 + 1) * height + 4) + 12)
    }

    static let golden = "89504e470d0a1a0a0000000d49484452000000030000000208020000001216f14d0000001f494441547801011400ebff00ff000000ff000000ff00000000808080ffffff3a61077b94395bf30000000049454e44ae426082"
}
