#!/usr/bin/env python3
"""Builds a real-image DICOM MR series (one file per slice) from a 3D NIfTI, with ImageOrientationPatient /
ImagePositionPatient / PixelSpacing derived from the NIfTI affine (RAS -> LPS), so that the DICOM voxels sit exactly
where the NIfTI voxels are. With no arguments it builds SampleData/dicom-study/brain1-mr/ from the pyradiomics brain1
NIfTI (BSD-3-Clause); SampleData/dicom-tissue-study/t1part2-mr/ is built from the ITK T1 study part (Apache-2.0) with

    python Tools/sample_data/make_dicom_sample.py \
        SampleData/tissue-study/t1part2/t1part2_image.nii.gz SampleData/dicom-tissue-study/t1part2-mr \
        --description "t1part2 MR (ITK k-means T1, Apache-2.0)" --seed t1part2 --manufacturer "ITK example data (converted)"

Mapping: NIfTI voxel (i, j, k) = DICOM file k+1, row j, column i. With A_LPS = diag(-1, -1, 1, 1) @ A_RAS:
row direction cosines = A_LPS[:3, 0] / |.|, PixelSpacing[1] (between columns) = |A_LPS[:3, 0]|;
column direction cosines = A_LPS[:3, 1] / |.|, PixelSpacing[0] (between rows) = |A_LPS[:3, 1]|;
ImagePositionPatient of slice k = A_LPS @ (0, 0, k, 1). UIDs and dates are fixed so reruns give identical files.
Note: a DICOM reader stacks slices along +(row x column); for a left-handed NIfTI affine (LAS, det < 0) the read
volume therefore has its slice axis reversed: same voxels in the same world places, affine = A_RAS @ flip(k).
"""
import argparse
import os

import nibabel as nib
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid



def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", default=os.path.join(os.environ.get("UNIVERSEG_DATA") or os.path.join(
                            os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data"),
                            "dev-eval/pyradiomics/brain1_image.nii.gz"),
                        help="a 3D NIfTI with non-negative integer voxels below 65536")
    parser.add_argument("out", nargs="?", default="SampleData/dicom-study/brain1-mr", help="output folder")
    parser.add_argument("--description", default="brain1 MR (pyradiomics, BSD-3)", help="SeriesDescription")
    parser.add_argument("--seed", default="brain1",
                        help="seeds the UIDs and names the patient (Sample^Seed, SAMPLE-SEED): reruns give identical files")
    parser.add_argument("--manufacturer", default="pyradiomics test data (converted)", help="where the image is from")
    return parser.parse_args()


def uid(seed, *parts):
    return generate_uid(entropy_srcs=[f"universeg-sample-{seed}", *map(str, parts)])


def ds_string(x):
    """A DS value of at most 16 characters."""
    for precision in range(12, 1, -1):
        text = f"{x:.{precision}g}"
        if len(text) <= 16:
            return text
    raise ValueError(x)


def main():
    args = arguments()
    image = nib.load(args.source)
    data = np.asanyarray(image.dataobj)
    assert data.ndim == 3 and data.min() >= 0 and data.max() < 2 ** 16
    ras = image.affine
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ ras
    col0, col1 = lps[:3, 0], lps[:3, 1]
    row_cos, col_cos = col0 / np.linalg.norm(col0), col1 / np.linalg.norm(col1)
    pixel_spacing = [float(np.linalg.norm(col1)), float(np.linalg.norm(col0))]
    nx, ny, nz = data.shape
    study, series, frame_of_reference = (uid(args.seed, part) for part in ("study", "series", "for"))
    os.makedirs(args.out, exist_ok=True)
    for k in range(nz):
        position = lps @ np.array([0.0, 0.0, k, 1.0])
        sop = uid(args.seed, "instance", k)
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
        ds.Manufacturer = args.manufacturer
        ds.ReferringPhysicianName = ""
        ds.StudyDescription = "UniverSeg sample study"
        ds.SeriesDescription = args.description
        ds.PatientName = f"Sample^{args.seed.capitalize()}"
        ds.PatientID = f"SAMPLE-{args.seed.upper()}"
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
        ds.save_as(os.path.join(args.out, f"IM{k + 1:04d}.dcm"), enforce_file_format=True)
    print(f"wrote {nz} files to {args.out}; NIfTI affine:\n{ras}")


if __name__ == "__main__":
    main()
