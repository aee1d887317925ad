#!/usr/bin/env python3
"""Builds the JPEG 2000 DICOM fixtures of Tests/VolumeIOTests/Fixtures/dicom/j2k and their expected numbers.

Run once (needs Tools/j2k_fixtures/requirements.txt):

    python Tools/j2k_fixtures/make_j2k_fixtures.py

DCMTK cannot write JPEG 2000 here, so pydicom re-encodes existing uncompressed DICOM files with OpenJPEG (through
pylibjpeg-openjpeg, whose 6 wavelet levels need images of at least 32 x 32: the 16 x 16 CT fixtures cannot be used),
keeping every other attribute:

- brain1-lossless/IM000{1,2,3}.dcm: the first three slices of SampleData/dicom-study/brain1-mr (MR, 256 x 256),
  JPEG 2000 lossless (1.2.840.10008.1.2.4.90).
- ect-lossless.dcm: ../enhanced/eCT_Supplemental.dcm (Enhanced CT, 2 frames), lossless, one codestream per frame.
- mr-small-lossy.dcm: ../syntaxes/MR_small.dcm, JPEG 2000 lossy (1.2.840.10008.1.2.4.91, compression ratio 8).

(../syntaxes/MR_small_jp2klossless.dcm, pydicom's own JPEG 2000 lossless copy of MR_small.dcm made by another
encoder, is the fourth case.)

expected-j2k.json records, for each file, its source and the largest absolute difference between the stored values
pydicom decodes (pylibjpeg-openjpeg) and the source's: 0 for the lossless files, the stated error of the lossy one.
The Swift tests decode with DCMTK + OpenJPEG and compare with the source within that error.
"""
import json
import os

import numpy as np
import pydicom
from pydicom.uid import JPEG2000, JPEG2000Lossless

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
DICOM = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "VolumeIOTests", "Fixtures", "dicom"))
OUT = os.path.join(DICOM, "j2k")


def encode(source, target, syntax, **options):
    ds = pydicom.dcmread(os.path.join(REPO, source))
    original = ds.pixel_array.copy()
    ds.compress(syntax, encoding_plugin="pylibjpeg", **options)
    os.makedirs(os.path.dirname(os.path.join(OUT, target)), exist_ok=True)
    ds.save_as(os.path.join(OUT, target), enforce_file_format=True)
    back = pydicom.dcmread(os.path.join(OUT, target))
    assert back.file_meta.TransferSyntaxUID == syntax, target
    error = int(np.max(np.abs(back.pixel_array.astype(np.int64) - original.astype(np.int64))))
    return {"source": source, "transfer_syntax": str(syntax), "max_abs_error": error}


def main():
    expected = {}
    fixtures = "Tests/VolumeIOTests/Fixtures/dicom/"
    for name in ["IM0001.dcm", "IM0002.dcm", "IM0003.dcm"]:
        expected[f"brain1-lossless/{name}"] = encode(f"SampleData/dicom-study/brain1-mr/{name}", f"brain1-lossless/{name}",
                                                     JPEG2000Lossless)
    expected["ect-lossless.dcm"] = encode(fixtures + "enhanced/eCT_Supplemental.dcm", "ect-lossless.dcm", JPEG2000Lossless)
    expected["mr-small-lossy.dcm"] = encode(fixtures + "syntaxes/MR_small.dcm", "mr-small-lossy.dcm", JPEG2000, j2k_cr=[8])
    for name, entry in expected.items():
        if "lossless" in name:
            assert entry["max_abs_error"] == 0, name
        else:
            assert entry["max_abs_error"] > 0, name   # really lossy
    # Not "expected.json": the DICOM fixtures folder already has one, and tests key its files by name.
    with open(os.path.join(OUT, "expected-j2k.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(expected, indent=1))


if __name__ == "__main__":
    main()
