#!/usr/bin/env python3
"""Builds SampleData/dicom-study/brain1-mr/: a real-image DICOM MR series (one file per slice) from the pyradiomics
brain1 NIfTI (BSD-3-Clause), with ImageOrientationPatient / ImagePositionPatient / PixelSpacing derived from the NIfTI
affine (RAS -> LPS), so that the DICOM voxels sit exactly where the NIfTI voxels are.

    . /work/venv/bin/activate && python Tools/sample_data/make_dicom_sample.py [path/to/brain1_image.nii.gz]

Mapping: NIfTI voxel (i, j, k) = DICOM file k+1, row j, column i. With A_LPS = diag(-1, -1, 1, 1) @ A_RAS:
row direction cosines = A_LPS[:3, 0] / |.|, PixelSpacing[1] (between columns) = |A_LPS[:3, 0]|;
column direction cosines = A_LPS[:3, 1] / |.|, PixelSpacing[0] (between rows) = |A_LPS[:3, 1]|;
ImagePositionPatient of slice k = A_LPS @ (0, 0, k, 1). UIDs and dates are fixed so reruns give identical files.
Note: a DICOM reader stacks slices along +(row x column); for a left-handed NIfTI affine (LAS, det < 0) the read
volume therefore has its slice axis reversed: same voxels in the same world places, affine = A_RAS @ flip(k).
"""
import os
import sys

import nibabel as nib
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

SOURCE = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/dev-eval/pyradiomics/brain1_image.nii.gz"
OUT = "SampleData/dicom-study/brain1-mr"


def uid(*parts):
    return generate_uid(entropy_srcs=["universeg-sample-brain1", *map(str, parts)])


def ds_string(x):
    """A DS value of at most 16 characters."""
    for precision in range(12, 1, -1):
        text = f"{x:.{precision}g}"
        if len(text) <= 16:
            return text
    raise ValueError(x)


def main():
    image = nib.load(SOURCE)
    data = np.asanyarray(image.dataobj)
    assert data.ndim == 3 and data.min() >= 0 and data.max() < 2 ** 16
    ras = image.affine
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ ras
    col0, col1 = lps[:3, 0], lps[:3, 1]
    row_cos, col_cos = col0 / np.linalg.norm(col0), col1 / np.linalg.norm(col1)
    pixel_spacing = [float(np.linalg.norm(col1)), float(np.linalg.norm(col0))]
    nx, ny, nz = data.shape
    study, series, frame_of_reference = uid("study"), uid("series"), uid("for")
    os.makedirs(OUT, exist_ok=True)
    for k in range(nz):
        position = lps @ np.array([0.0, 0.0, k, 1.0])
        sop = uid("instance", k)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["DERIVED", "SECONDARY", "OTHER"]
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = sop
        ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20200101"
        ds.StudyTime = ds.SeriesTime = ds.ContentTime = "120000"
        ds.AccessionNumber = ""
        ds.Modality = "MR"
        ds.Manufacturer = "pyradiomics test data (converted)"
        ds.ReferringPhysicianName = ""
        ds.StudyDescription = "UniverSeg sample study"
        ds.SeriesDescription = "brain1 MR (pyradiomics, BSD-3)"
        ds.PatientName = "Sample^Brain1"
        ds.PatientID = "SAMPLE-BRAIN1"
        ds.PatientBirthDate = ""
        ds.PatientSex = "O"
        ds.ScanningSequence = "RM"
        ds.SequenceVariant = "NONE"
        ds.ScanOptions = ""
        ds.MRAcquisitionType = "2D"
        ds.SliceThickness = ds_string(float(np.linalg.norm(lps[:3, 2])))
        ds.RepetitionTime = ""
        ds.EchoTime = ""
        ds.EchoTrainLength = ""
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.StudyID = "1"
        ds.SeriesNumber = 1
        ds.Laterality = ""
        ds.PatientPosition = "HFS"
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [ds_string(v) for v in position[:3]]
        ds.ImageOrientationPatient = [ds_string(v) for v in [*row_cos, *col_cos]]
        ds.FrameOfReferenceUID = frame_of_reference
        ds.PositionReferenceIndicator = ""
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = ny
        ds.Columns = nx
        ds.PixelSpacing = [ds_string(v) for v in pixel_spacing]
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        # Row j, column i = NIfTI voxel (i, j, k): the frame is data[:, :, k] transposed to (rows, columns).
        ds.PixelData = np.ascontiguousarray(data[:, :, k].T.astype("<u2")).tobytes()
        ds.save_as(os.path.join(OUT, f"IM{k + 1:04d}.dcm"), enforce_file_format=True)
    print(f"wrote {nz} files to {OUT}; NIfTI affine:\n{ras}")


if __name__ == "__main__":
    main()
