#!/usr/bin/env python3
"""Expected DICOM geometry and pixel values for the Swift reader tests, computed independently with pydicom + numpy.

Writes Tests/VolumeIOTests/Fixtures/dicom/expected.json. Run from the repository root:
    python Tools/geometry_fixtures/make_dicom_fixtures.py   (needs requirements.txt here; shared data from
    $UNIVERSEG_DATA or <repo>/../shared/data)

Conventions (the same spec the Swift reader implements, written again from scratch here):
- slices sorted by ImagePositionPatient . n, n = row cosines x column cosines; ties by (path, frame);
  positions closer than 0.01 mm along n are duplicates (first kept);
- gaps uniform when every gap is within max(0.01, 0.01 * median) of the median: step = (last - first) / (n - 1),
  else the median; stack direction leaving n by more than 1e-3 rad = gantry tilt: column 2 = (last - first)/(n - 1);
- affine (LPS) columns: row cosines * PixelSpacing[1], column cosines * PixelSpacing[0], slice step; origin = IPP of
  the first sorted slice; then RAS = diag(-1, -1, 1) applied to rows;
- values: stored (pydicom) -> MONOCHROME1 inverted within the BitsStored range -> slope * v + intercept
  (missing slope = 1, missing intercept = 0). Compressed syntaxes pydicom cannot decode here (JPEG lossless/extended,
  JPEG-LS) are decompressed with DCMTK's dcmdjpeg/dcmdjpls first, then read with pydicom.
"""
import glob
import json
import os
import subprocess
import tempfile

import numpy as np
import pydicom

# shared/data: $UNIVERSEG_DATA, or beside the repository (the CI layout).
SHARED_DATA = os.environ.get("UNIVERSEG_DATA") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data")

ROOT = "Tests/VolumeIOTests/Fixtures/dicom"
CASES = {
    "ct-series-shuffled": ["ct-series-shuffled/*"],
    "ct-missing-slices": ["ct-missing-slices/*"],
    "mr-small": ["syntaxes/MR_small.dcm"],
    "mr-small-rle": ["syntaxes/MR_small_RLE.dcm"],
    "mr-small-bigendian": ["syntaxes/MR_small_bigendian.dcm"],
    "mr-small-expb": ["syntaxes/MR_small_expb.dcm"],
    "mr-small-implicit": ["syntaxes/MR_small_implicit.dcm"],
    "mr-small-jpeg-ls": ["syntaxes/MR_small_jpeg_ls_lossless.dcm"],
    "jpeg-lossless": ["syntaxes/JPEG-LL.dcm"],
    "jpeg-extended": ["syntaxes/JPGExtended.dcm"],
    "jpeg-baseline": ["syntaxes/image_jpeg_baseline.dcm"],
    "deflate": ["syntaxes/image_dfl.dcm"],
    "enhanced-ct": ["enhanced/eCT_Supplemental.dcm"],
    "mono1": ["mono1/cr-mono1.dcm"],
    "ct-scout-anisotropic": ["anisotropic/ct-scout.dcm"],
    "rtdose-multiframe": ["multiframe/rtdose.dcm"],
    "sample-brain1-mr": ["../../../../SampleData/dicom-study/brain1-mr/*"],
}
DECOMPRESSORS = {"1.2.840.10008.1.2.4.57": "dcmdjpeg", "1.2.840.10008.1.2.4.70": "dcmdjpeg",
                 "1.2.840.10008.1.2.4.51": "dcmdjpeg", "1.2.840.10008.1.2.4.50": "dcmdjpeg",
                 "1.2.840.10008.1.2.4.80": "dcmdjpls", "1.2.840.10008.1.2.4.81": "dcmdjpls"}


def number_list(value, count):
    if value is None:
        return None
    values = [float(v) for v in (value if isinstance(value, (list, pydicom.multival.MultiValue)) else [value])]
    return values if len(values) == count else None


def group_value(ds, frame, sequence, keyword, count):
    """Value of `keyword` in `sequence` of the per-frame group of `frame`, else of the shared group."""
    for groups in (ds.get("PerFrameFunctionalGroupsSequence"), ds.get("SharedFunctionalGroupsSequence")):
        if not groups:
            continue
        item = groups[frame] if groups is ds.get("PerFrameFunctionalGroupsSequence") else groups[0]
        if sequence in item and len(item[sequence].value) > 0 and keyword in item[sequence].value[0]:
            return number_list(item[sequence].value[0].get(keyword), count)
    return None


def slices_of(path):
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    ipp = number_list(ds.get("ImagePositionPatient"), 3)
    iop = number_list(ds.get("ImageOrientationPatient"), 6)
    spacing = number_list(ds.get("PixelSpacing"), 2) or number_list(ds.get("ImagerPixelSpacing"), 2)
    slope = float(ds.RescaleSlope) if "RescaleSlope" in ds and float(ds.RescaleSlope) != 0 else 1.0
    intercept = float(ds.RescaleIntercept) if "RescaleIntercept" in ds else 0.0
    thickness = float(ds.SliceThickness) if ds.get("SliceThickness") not in (None, "") else None
    between = float(ds.SpacingBetweenSlices) if ds.get("SpacingBetweenSlices") not in (None, "") else None
    out = []
    if "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds:
        for f in range(frames):
            s = dict(path=path, frame=f, ipp=group_value(ds, f, "PlanePositionSequence", "ImagePositionPatient", 3) or ipp,
                     iop=group_value(ds, f, "PlaneOrientationSequence", "ImageOrientationPatient", 6) or iop,
                     spacing=group_value(ds, f, "PixelMeasuresSequence", "PixelSpacing", 2) or spacing,
                     slope=slope, intercept=intercept, thickness=thickness, between=between)
            fs = group_value(ds, f, "PixelValueTransformationSequence", "RescaleSlope", 1)
            if fs and fs[0] != 0:
                s["slope"] = fs[0]
                s["intercept"] = (group_value(ds, f, "PixelValueTransformationSequence", "RescaleIntercept", 1) or [0])[0]
            out.append(s)
    else:
        offsets = number_list(ds.get("GridFrameOffsetVector"), frames) if frames > 1 else [0.0]
        for f in range(frames):
            p = ipp
            if ipp is not None and iop is not None and frames > 1:
                n = np.cross(iop[:3], iop[3:])
                n = n / np.linalg.norm(n)
                d = offsets[f] if offsets else f * (between or thickness or 1)
                p = list(np.array(ipp) + d * n)
            out.append(dict(path=path, frame=f, ipp=p, iop=iop, spacing=spacing, slope=slope, intercept=intercept,
                            thickness=thickness, between=between))
    return out


def stack(slices):
    first = slices[0]
    iop = first["iop"]
    if first["ipp"] is None or iop is None:
        iop = [1, 0, 0, 0, 1, 0]
        step = first["between"] or first["thickness"] or 1
        for i, s in enumerate(slices):
            s["ipp"] = [0, 0, i * step]
    row = np.array(iop[:3]) / np.linalg.norm(iop[:3])
    col = np.array(iop[3:]) / np.linalg.norm(iop[3:])
    n = np.cross(row, col)
    n /= np.linalg.norm(n)
    dist = [float(np.dot(s["ipp"], n)) for s in slices]
    order = sorted(range(len(slices)), key=lambda i: (dist[i], slices[i]["path"], slices[i]["frame"]))
    kept = []
    for i in order:
        if kept and abs(dist[i] - dist[kept[-1]]) < 0.01:
            continue
        kept.append(i)
    d = np.array([dist[i] for i in kept])
    if len(kept) == 1:
        spacing = first["between"] or first["thickness"] or 1
        step = n * spacing
    else:
        gaps = np.diff(d)
        median = sorted(gaps)[len(gaps) // 2]
        tol = max(0.01, 0.01 * median)
        uniform = all(abs(g - median) <= tol for g in gaps)
        spacing = (d[-1] - d[0]) / len(gaps) if uniform else median
        total = np.array(slices[kept[-1]]["ipp"]) - np.array(slices[kept[0]]["ipp"])
        along = float(np.dot(total, n))
        across = np.linalg.norm(total - along * n)
        step = total / len(gaps) if np.arctan2(across, abs(along)) > 1e-3 else n * spacing
    ps = first["spacing"] or [1.0, 1.0]
    lps = np.eye(4)
    lps[:3, 0] = row * ps[1]
    lps[:3, 1] = col * ps[0]
    lps[:3, 2] = step
    lps[:3, 3] = slices[kept[0]]["ipp"]
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
    return [slices[i] for i in kept], ras, spacing


def pixels(path, tmp):
    ds = pydicom.dcmread(path)
    tool = DECOMPRESSORS.get(str(ds.file_meta.TransferSyntaxUID))
    if tool:
        out = os.path.join(tmp, os.path.basename(path) + ".raw.dcm")
        subprocess.run([tool, path, out], check=True)
        ds = pydicom.dcmread(out)
    a = ds.pixel_array.astype(np.float64)
    if int(ds.get("NumberOfFrames", 1) or 1) == 1:
        a = a[None]
    if ds.PhotometricInterpretation == "MONOCHROME1":
        bits = int(ds.BitsStored)
        lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if ds.PixelRepresentation == 1 else (0, 2 ** bits - 1)
        a = lo + hi - a
    return a


def main():
    expected = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, patterns in CASES.items():
            files = sorted(f for p in patterns for f in glob.glob(os.path.join(ROOT, p)))
            if not files:
                print("skipping", name, "(no files)")
                continue
            slices = [s for f in files for s in slices_of(f)]
            kept, ras, spacing = stack(slices)
            nx, ny, nz = int(pydicom.dcmread(files[0], stop_before_pixels=True).Columns), \
                int(pydicom.dcmread(files[0], stop_before_pixels=True).Rows), len(kept)
            cache = {}
            volume = np.zeros((nz, ny, nx))
            for k, s in enumerate(kept):
                if s["path"] not in cache:
                    cache[s["path"]] = pixels(s["path"], tmp)
                volume[k] = cache[s["path"]][s["frame"]] * s["slope"] + s["intercept"]
            corners = [[i, j, k] for k in (0, nz - 1) for j in (0, ny - 1) for i in (0, nx - 1)]
            samples = sorted({(0, 0, 0), (nx - 1, ny - 1, nz - 1), (nx // 2, ny // 3, nz // 2), (nx // 3, ny // 2, 0)})
            kmax, jmax, imax = np.unravel_index(int(np.argmax(volume)), volume.shape)
            samples.append((int(imax), int(jmax), int(kmax)))
            expected[name] = {
                "files": [os.path.relpath(f, ROOT) for f in files],
                "shape": [nx, ny, nz],
                "slice_order": [[os.path.relpath(s["path"], ROOT), s["frame"]] for s in kept],
                "affine_ras": ras.tolist(),
                "slice_spacing": float(spacing),
                "corners_index": corners,
                "corners_ras": [(ras @ np.array([*c, 1.0]))[:3].tolist() for c in corners],
                "samples": [{"index": list(map(int, ijk)), "value": float(volume[ijk[2], ijk[1], ijk[0]])}
                            for ijk in samples],
                "min": float(volume.min()), "max": float(volume.max()), "sum": float(volume.sum()),
            }
            if name == "sample-brain1-mr":
                # The series was made from this NIfTI: same voxels in the same world places (slice axis reversed,
                # see Tools/sample_data/make_dicom_sample.py).
                import nibabel as nib
                nifti = nib.load(os.path.join(SHARED_DATA, "dev-eval/pyradiomics/brain1_image.nii.gz"))
                data = np.asanyarray(nifti.dataobj).astype(np.float64)
                assert np.array_equal(volume.transpose(2, 1, 0)[:, :, ::-1], data)
                flip = np.eye(4)
                flip[2, 2], flip[2, 3] = -1, nz - 1
                assert np.allclose(nifti.affine @ flip, ras, atol=1e-6)
                expected[name]["nifti_affine"] = nifti.affine.tolist()
            print(name, expected[name]["shape"], "spacing", round(spacing, 4))
    with open(os.path.join(ROOT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
