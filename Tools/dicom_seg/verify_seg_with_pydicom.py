#!/usr/bin/env python3
"""Decodes a binary DICOM SEG with pydicom (independently of DCMTK) onto its source series grid and checks it.

    python Tools/dicom_seg/verify_seg_with_pydicom.py \
        Tests/VolumeIOTests/Fixtures/dicom/seg/ct-series-shuffled-seg.dcm \
        Tests/VolumeIOTests/Fixtures/dicom/ct-series-shuffled [--expect-test-pattern]

Rebuilds the label map (voxel = segment number) by placing each frame on the source slice whose
SOPInstanceUID its DerivationImageSequence references, checks that the frame's ImagePositionPatient equals that
slice's, and prints per-segment voxel counts. With --expect-test-pattern it compares against the pattern
DicomSegTests.labels(on:) writes (segment 1: box i in 3..8, j in 5..11, slices 1..3; segment 2: i == j; 3: empty),
with slices sorted along the normal: the mask must be identical.
"""
import glob
import sys

import numpy as np
import pydicom


def main():
    seg_path, source_dir = sys.argv[1], sys.argv[2]
    seg = pydicom.dcmread(seg_path)
    assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4" and seg.SegmentationType == "BINARY"
    sources = [pydicom.dcmread(f, stop_before_pixels=True) for f in sorted(glob.glob(source_dir + "/*"))]
    iop = np.array(sources[0].ImageOrientationPatient, float)
    normal = np.cross(iop[:3], iop[3:])
    sources.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, float), normal)))
    slice_of = {d.SOPInstanceUID: k for k, d in enumerate(sources)}
    frames = seg.pixel_array.reshape(int(seg.NumberOfFrames), seg.Rows, seg.Columns)
    labels = np.zeros((len(sources), seg.Rows, seg.Columns), np.int32)
    for index, group in enumerate(seg.PerFrameFunctionalGroupsSequence):
        number = int(group.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        uid = group.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        k = slice_of[uid]
        position = np.array(group.PlanePositionSequence[0].ImagePositionPatient, float)
        assert np.allclose(position, np.array(sources[k].ImagePositionPatient, float), atol=1e-4), (index, position)
        labels[k][frames[index] != 0] = number
    names = {int(s.SegmentNumber): s.SegmentLabel for s in seg.SegmentSequence}
    for number, name in sorted(names.items()):
        print(f"segment {number} '{name}': {int((labels == number).sum())} voxels")
    if "--expect-test-pattern" in sys.argv:
        expected = np.zeros_like(labels)
        for k in range(labels.shape[0]):
            for j in range(labels.shape[1]):
                for i in range(labels.shape[2]):
                    if 1 <= k <= 3 and 3 <= i < 9 and 5 <= j < 12:
                        expected[k, j, i] = 1
                    if i == j:
                        expected[k, j, i] = 2
        assert np.array_equal(labels, expected), "mask differs from the test pattern"
        print("mask identical to the test pattern")


if __name__ == "__main__":
    main()
