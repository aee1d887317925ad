#!/usr/bin/env python3
"""Writes a DICOM SEG with highdicom (an implementation independent of DCMTK and of universeg) over
SampleData/dicom-study/brain1-mr, for the tests that read SEGs as support pairs.

    python -m venv Tools/.venv && Tools/.venv/bin/pip install -r Tools/dicom_seg/requirements-highdicom.txt
    Tools/.venv/bin/python Tools/dicom_seg/make_highdicom_seg.py \
        SampleData/dicom-study/brain1-mr Tests/VolumeIOTests/Fixtures/dicom/seg/brain1-mr-highdicom-seg.dcm

The pattern (slices sorted along the normal, k from 0; rows and columns 0-based), which
DicomSegSupportTests.boxes mirrors:
  segment 1 "box":   slices 10..14, rows 100..139, columns 80..149
  segment 2 "small": slices 12..13, rows 60..79,  columns 120..159
Empty frames are omitted (highdicom's default), so the SEG has frames on slices 10..14 only.
SeriesInstanceUID, SOPInstanceUID and dates are fixed; highdicom makes the other UIDs (e.g. the dimension
organization) afresh on each run.
"""
import glob
import sys

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes

BOXES = [  # (segment, slices, rows, columns), inclusive ranges
    (1, (10, 14), (100, 139), (80, 149)),
    (2, (12, 13), (60, 79), (120, 159)),
]


def main():
    source_dir, out = sys.argv[1], sys.argv[2]
    sources = [pydicom.dcmread(f) for f in sorted(glob.glob(source_dir + "/*.dcm"))]
    iop = np.array(sources[0].ImageOrientationPatient, float)
    normal = np.cross(iop[:3], iop[3:])
    sources.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, float), normal)))
    rows, columns = sources[0].Rows, sources[0].Columns
    mask = np.zeros((len(sources), rows, columns, len(BOXES)), dtype=bool)
    for n, (_, (k0, k1), (r0, r1), (c0, c1)) in enumerate(BOXES):
        mask[k0:k1 + 1, r0:r1 + 1, c0:c1 + 1, n] = True
    algorithm = hd.AlgorithmIdentificationSequence(
        name="test pattern", version="1", family=codes.cid7162.ArtificialIntelligence)
    segments = [
        hd.seg.SegmentDescription(
            segment_number=number, segment_label=label,
            segmented_property_category=codes.cid7150.Tissue, segmented_property_type=codes.cid7166.ConnectiveTissue,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
        for number, label in [(1, "box"), (2, "small")]
    ]
    seg = hd.seg.Segmentation(
        source_images=sources, pixel_array=mask, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=segments, series_instance_uid="1.2.826.0.1.3680043.8.498.1001",
        series_number=950, sop_instance_uid="1.2.826.0.1.3680043.8.498.1002", instance_number=1,
        manufacturer="highdicom test", manufacturer_model_name="make_highdicom_seg.py", software_versions="1",
        device_serial_number="0")
    for attribute in ["ContentDate", "SeriesDate", "InstanceCreationDate"]:
        if attribute in seg:
            setattr(seg, attribute, "20260101")
    for attribute in ["ContentTime", "SeriesTime", "InstanceCreationTime"]:
        if attribute in seg:
            setattr(seg, attribute, "120000")
    seg.save_as(out)
    counts = {number: int(mask[..., n].sum()) for n, (number, *_) in enumerate(BOXES)}
    print(f"{out}: {int(seg.NumberOfFrames)} frames, voxels per segment {counts}")


if __name__ == "__main__":
    main()
