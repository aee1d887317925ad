import Foundation

/// A display colour as 8-bit sRGB, the way users and viewers' colour tables (Slicer, ITK-SNAP) give it.
public struct DisplayColor: Sendable, Hashable, Codable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public var rgb: [Int] { [Int(red), Int(green), Int(blue)] }

    /// CIE 1976 L*a*b* of this sRGB colour, reference white D65: sRGB companding undone (IEC 61966-2-1), linear RGB
    /// to XYZ with the sRGB primaries' matrix, then the CIE formulas. L* in 0...100, a* and b* about -128...127.
    /// Pure red (255, 0, 0) is (53.2408, 80.0925, 67.2032). See also `dicomCIELab`.
    public var cieLab: (l: Double, a: Double, b: Double) {
        func linear(_ c: UInt8) -> Double {
            let v = Double(c) / 255
            return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4)
        }
        let (r, g, b) = (linear(red), linear(green), linear(blue))
        let x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b
        let y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
        let z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b
        // D65 reference white (Y = 1).
        let (xn, yn, zn) = (0.95047, 1.0, 1.08883)
        func f(_ t: Double) -> Double {
            let delta = 6.0 / 29
            return t > delta * delta * delta ? cbrt(t) : t / (3 * delta * delta) + 4.0 / 29
        }
        let (fx, fy, fz) = (f(x / xn), f(y / yn), f(z / zn))
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
    }

    /// RecommendedDisplayCIELabValue (US, 3): L* scaled from 0...100 and a*, b* from -128...127 to 0...65535
    /// (PS3.3 C.10.7.1.1), rounded to the nearest integer. White is (65535, 32896, 32896).
    public var dicomCIELab: [UInt16] {
        let (l, a, b) = cieLab
        func scaled(_ value: Double, from low: Double, to high: Double) -> UInt16 {
            UInt16(max(0, min(65535, ((value - low) / (high - low) * 65535).rounded())))
        }
        return [scaled(l, from: 0, to: 100), scaled(a, from: -128, to: 127), scaled(b, from: -128, to: 127)]
    }
}

/// A coded concept: CodeValue (SH), CodingSchemeDesignator (SH) and CodeMeaning (LO), as in DICOM's Code Sequence
/// Macro, e.g. SNOMED CT ("SCT", "10200004", "Liver").
public struct CodedConcept: Sendable, Hashable, Codable {
    public var scheme: String
    public var value: String
    public var meaning: String

    public init(scheme: String, value: String, meaning: String) {
        self.scheme = scheme
        self.value = value
        self.meaning = meaning
    }

    /// The Segmented Property Category every segment gets unless told otherwise (CID 7150).
    public static let anatomicalStructure = CodedConcept(scheme: "SCT", value: "91723000", meaning: "Anatomical Structure")
    /// The Segmented Property Type of a segment with no code of its own: a generic "Tissue" (CID 7151's SCT code).
    public static let tissue = CodedConcept(scheme: "SCT", value: "85756007", meaning: "Tissue")

    /// Why this code cannot be written to a DICOM Code Sequence (the field at fault and the reason), or nil:
    /// CodeValue and CodingSchemeDesignator are SH (at most 16 characters), CodeMeaning LO (at most 64), none empty;
    /// printable ASCII without backslashes, so the SEG needs no character set of its own.
    public var problem: (field: String, reason: String)? {
        for (field, text, limit) in [("scheme", scheme, 16), ("value", value, 16), ("meaning", meaning, 64)] {
            if text.trimmingCharacters(in: .whitespaces).isEmpty { return (field, "the code's \(field) is empty") }
            if text.count > limit { return (field, "the code's \(field) '\(text)' is longer than \(limit) characters") }
            if !text.unicodeScalars.allSatisfy({ $0.value >= 32 && $0.value < 127 && $0 != "\\" }) {
                return (field, "the code's \(field) '\(text)' holds a character other than printable ASCII, or a backslash")
            }
        }
        return nil
    }
}
