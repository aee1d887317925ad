"""Reads the coded SEG the Swift writer produces (Tests/VolumeIOTests/Fixtures/dicom/seg/ct-series-shuffled-seg-coded.dcm,
kept identical to the writer's output by DicomSegTests.testSegmentsCarryTheirCodesAndColours) with pydicom, not
DCMTK, and checks each segment's label, category and type codes with their meanings, and its
RecommendedDisplayCIELabValue against an sRGB -> CIE L*a*b* (D65) -> DICOM conversion written here from the
formulas (IEC 61966-2-1, CIE 15, PS3.3 C.10.7.1.1)."""
import pathlib

import numpy as np
import pydicom

SEG = (pathlib.Path(__file__).resolve().parents[2]
       / "Tests/VolumeIOTests/Fixtures/dicom/seg/ct-series-shuffled-seg-coded.dcm")

# label, category (value, scheme, meaning), type, sRGB: what DicomSegTests.codedSegments asks for.
EXPECTED = [
    ("liver", ("91723000", "SCT", "Anatomical Structure"), ("10200004", "SCT", "Liver"), (221, 130, 101)),
    ("lesion", ("49755003", "SCT", "Morphologically Altered Structure"), ("52988006", "SCT", "Lesion"), (255, 0, 0)),
    ("absent", ("91723000", "SCT", "Anatomical Structure"), ("85756007", "SCT", "Tissue"), (0, 0, 255)),
]


def srgb_to_lab(rgb):
    c = np.asarray(rgb, float) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = m @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def dicom_lab(rgb):
    lab = srgb_to_lab(rgb)
    return [round(lab[0] / 100 * 65535), round((lab[1] + 128) / 255 * 65535), round((lab[2] + 128) / 255 * 65535)]


def test_the_conversion_here_matches_published_values():
    # Bruce Lindbloom's calculator, sRGB, D65: red is L* 53.2408, a* 80.0925, b* 67.2032.
    assert np.allclose(srgb_to_lab((255, 0, 0)), [53.2408, 80.0925, 67.2032], atol=1e-3)
    assert dicom_lab((255, 255, 255)) == [65535, 32896, 32896]


def test_segments_carry_their_codes_meanings_and_colours():
    seg = pydicom.dcmread(SEG)
    assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"
    assert len(seg.SegmentSequence) == len(EXPECTED)
    for number, (segment, (label, category, kind, rgb)) in enumerate(zip(seg.SegmentSequence, EXPECTED), start=1):
        assert int(segment.SegmentNumber) == number
        assert segment.SegmentLabel == label
        for sequence, code in [(segment.SegmentedPropertyCategoryCodeSequence, category),
                               (segment.SegmentedPropertyTypeCodeSequence, kind)]:
            assert len(sequence) == 1
            assert (sequence[0].CodeValue, sequence[0].CodingSchemeDesignator, sequence[0].CodeMeaning) == code
        assert [int(v) for v in segment.RecommendedDisplayCIELabValue] == dicom_lab(rgb), label
