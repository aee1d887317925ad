#!/usr/bin/env python3
"""Mosaic geometry and tile contents of the mosaic fixtures, computed independently with nibabel.nicom.

For each fixture (gunzipped when it ends in .gz) nibabel's MosaicWrapper gives the unpacked array and the affine
from array indices to DICOM LPS mm. Written per file: the tile size, the LPS position of each slice's first pixel
(affine @ [0, 0, s, 1]) and the sum of each slice's stored values, both sorted along row x column direction (the
order universeg stacks slices in), and the CSA values the reader uses. Also the parsed elements of csa2_b1000.bin.

    Tools/dcm2niix_check/.venv/bin/python Tools/dcm2niix_check/make_mosaic_expectations.py
"""
import gzip
import io
import json
import os

import warnings

import numpy as np
import pydicom
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # nibabel.nicom warns that it is experimental
    from nibabel.nicom import csareader, dicomwrappers

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "Tests", "VolumeIOTests", "Fixtures", "dicom", "mosaic")
MOSAICS = ["axasc35.dcm.gz", "siemens_dwi_0.dcm.gz", "siemens_dwi_1000.dcm.gz", "nicom_0.dcm.gz", "nicom_1.dcm.gz"]


def load(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        raw = f.read()
    return pydicom.dcmread(io.BytesIO(gzip.decompress(raw) if name.endswith(".gz") else raw))


def expectations(name):
    dataset = load(name)
    wrapper = dicomwrappers.wrapper_from_data(dataset)
    assert wrapper.is_mosaic, name
    rows, columns, slices = wrapper.image_shape
    try:
        data = wrapper.get_unscaled_data()  # (rows, columns, slices), stored values
    except ValueError:
        data = None  # nibabel unpacks only mosaics whose size is a whole number of tiles (not nicom_*)
    affine = wrapper.affine
    iop = np.array(dataset.ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    positions = [affine @ np.array([0, 0, s, 1.0]) for s in range(slices)]
    order = sorted(range(slices), key=lambda s: float(positions[s][:3] @ normal))
    csa = csareader.get_csa_header(dataset)
    return {
        "tile_columns": int(columns), "tile_rows": int(rows), "slices": int(slices),
        "positions_lps": [[float(x) for x in positions[s][:3]] for s in order],
        "slice_sums": None if data is None else [float(data[:, :, s].sum()) for s in order],
        "b_value": csareader.get_b_value(csa),
        "n_mosaic": csareader.get_n_mosaic(csa),
        "slice_normal": [float(x) for x in csareader.get_slice_normal(csa)],
    }


def main():
    result = {name: expectations(name) for name in MOSAICS}
    with open(os.path.join(FIXTURES, "csa2_b1000.bin"), "rb") as f:
        csa = csareader.read(f.read())
    result["csa2_b1000.bin"] = {
        "type": csa["type"], "n_tags": csa["n_tags"],
        "B_value": csareader.get_scalar(csa, "B_value"),
        "NumberOfImagesInMosaic": csareader.get_scalar(csa, "NumberOfImagesInMosaic"),
        "SliceNormalVector": [float(x) for x in csareader.get_vector(csa, "SliceNormalVector", 3)],
        "DiffusionGradientDirection": [float(x) for x in csareader.get_vector(csa, "DiffusionGradientDirection", 3)],
        "ImagePositionPatient_items": len(csa["tags"]["ImagePositionPatient"]["items"]),
    }
    with open(os.path.join(FIXTURES, "expected-nibabel.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
