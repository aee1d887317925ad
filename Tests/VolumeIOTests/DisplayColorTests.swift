import XCTest
@testable import VolumeIO

/// sRGB → CIE L*a*b* (D65) → DICOM's scaled 0...65535, against published values (Bruce Lindbloom's calculator,
/// sRGB, D65 reference white, no adaptation) and the scaling of PS3.3 C.10.7.1.1.
final class DisplayColorTests: XCTestCase {
    func testPrimariesMatchPublishedCIELab() {
        let published: [(DisplayColor, (Double, Double, Double))] = [
            (DisplayColor(255, 0, 0), (53.2408, 80.0925, 67.2032)),
            (DisplayColor(0, 255, 0), (87.7347, -86.1827, 83.1793)),
            (DisplayColor(0, 0, 255), (32.2970, 79.1875, -107.8602)),
            (DisplayColor(255, 255, 255), (100, 0, 0)),
            (DisplayColor(0, 0, 0), (0, 0, 0)),
            (DisplayColor(128, 128, 128), (53.5850, 0, 0)),
        ]
        for (color, lab) in published {
            let (l, a, b) = color.cieLab
            XCTAssertEqual(l, lab.0, accuracy: 1e-3, "\(color)")
            XCTAssertEqual(a, lab.1, accuracy: 1e-3, "\(color)")
            XCTAssertEqual(b, lab.2, accuracy: 1e-3, "\(color)")
        }
    }

    func testDicomScalingMapsTheLabRangesOnto16Bits() {
        // White: L* 100 → 65535; a* = b* = 0 → 128 / 255 * 65535 = 32896 exactly.
        XCTAssertEqual(DisplayColor(255, 255, 255).dicomCIELab, [65535, 32896, 32896])
        XCTAssertEqual(DisplayColor(0, 0, 0).dicomCIELab, [0, 32896, 32896])
        // Red: 53.2408 / 100 * 65535 = 34891.4; (80.0925 + 128) / 255 * 65535 = 53479.8; (67.2032 + 128) / 255 * 65535 = 50167.2.
        XCTAssertEqual(DisplayColor(255, 0, 0).dicomCIELab, [34891, 53480, 50167])
        XCTAssertEqual(DisplayColor(0, 0, 255).dicomCIELab, [21166, 53247, 5176])
    }

    func testCodesThatDoNotFitTheirAttributesAreNamed() {
        XCTAssertNil(CodedConcept(scheme: "SCT", value: "10200004", meaning: "Liver").problem)
        XCTAssertEqual(CodedConcept(scheme: "", value: "1", meaning: "x").problem?.field, "scheme")
        XCTAssertEqual(CodedConcept(scheme: "SCT", value: "12345678901234567", meaning: "x").problem?.field, "value")
        XCTAssertEqual(CodedConcept(scheme: "SCT", value: "1", meaning: String(repeating: "m", count: 65)).problem?.field, "meaning")
        XCTAssertEqual(CodedConcept(scheme: "SCT", value: "1", meaning: "Leber\u{00E9}").problem?.field, "meaning")
        XCTAssertEqual(CodedConcept(scheme: "SCT", value: "1\\2", meaning: "x").problem?.field, "value")
    }
}
