import Foundation
import ZlibShim

/// A minimal PNG writer for 8-bit RGB images: filtered scanlines compressed with zlib.
public enum PNGEncoder {
    /// PNG bytes for an RGB image, `rgb` row-major with 3 bytes per pixel, top row first.
    public static func encode(width: Int, height: Int, rgb: [UInt8]) -> Data {
        precondition(width > 0 && height > 0 && rgb.count == width * height * 3, "RGB buffer must be width x height x 3")
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = Data()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header.append(contentsOf: [8, 2, 0, 0, 0])  // bit depth 8, colour type 2 (RGB), deflate, filter 0, no interlace
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", Zlib.compressed(filteredScanlines(width: width, height: height, rgb: rgb)), to: &png)
        appendChunk("IEND", Data(), to: &png)
        return png
    }

    /// Each scanline as its filter-type byte and filtered bytes (PNG spec, section 9). A row takes the filter whose
    /// output has the smallest sum of absolute signed bytes (libpng's heuristic): small residuals repeat, so deflate
    /// shrinks them several times more than raw pixels.
    static func filteredScanlines(width: Int, height: Int, rgb: [UInt8]) -> [UInt8] {
        let stride = width * 3, pixelBytes = 3
        var out = [UInt8]()
        out.reserveCapacity((stride + 1) * height)
        var candidates = [[UInt8]](repeating: [UInt8](repeating: 0, count: stride), count: 5)
        for y in 0..<height {
            let row = y * stride, above = row - stride
            for i in 0..<stride {
                let x = rgb[row + i]
                let a = i >= pixelBytes ? rgb[row + i - pixelBytes] : 0
                let b = y > 0 ? rgb[above + i] : 0
                let c = y > 0 && i >= pixelBytes ? rgb[above + i - pixelBytes] : 0
                candidates[0][i] = x
                candidates[1][i] = x &- a
                candidates[2][i] = x &- b
                candidates[3][i] = x &- UInt8((UInt16(a) + UInt16(b)) / 2)
                candidates[4][i] = x &- paeth(a, b, c)
            }
            let cost = candidates.map { $0.reduce(0) { $0 + Int(Int8(bitPattern: $1).magnitude) } }
            let best = cost.indices.min { cost[$0] < cost[$1] }!
            out.append(UInt8(best))
            out.append(contentsOf: candidates[best])
        }
        return out
    }

    /// The Paeth predictor: whichever of left, above and upper-left is closest to left + above - upper-left.
    static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
        return pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
    }

    static func appendChunk(_ type: String, _ payload: Data, to png: inout Data) {
        png.appendBigEndian(UInt32(payload.count))
        let typed = Data(type.utf8) + payload
        png.append(typed)
        png.appendBigEndian(Zlib.crc32(typed))
    }
}

extension Data {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)])
    }
}
