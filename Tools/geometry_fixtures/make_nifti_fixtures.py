#!/usr/bin/env python3
"""Builds the NIfTI test fixtures of Tests/VolumeIOTests/Fixtures/nifti and their expected geometry.

Run once (needs Tools/geometry_fixtures/requirements.txt):

    python Tools/geometry_fixtures/make_nifti_fixtures.py [--data SHARED_DATA]   (default: $UNIVERSEG_DATA or <repo>/../shared/data)

1. Copies a few small real files from shared/data (see SOURCES.md there for origin and licence).
2. Writes synthetic cases with nibabel: oblique sform, sform != qform with both codes, qform only, no transform,
   the same image stored RAS / LAS / LIA, NIfTI-2, scl_slope, each datatype, 4D, and broken files.
3. Computes with nibabel, an implementation independent of ours, for every readable file: the affine
   (get_best_affine), world coordinates of the 8 corner voxel centres, orientation letters (aff2axcodes),
   the 3D shape, header fields, and a few voxel values (scaled, as get_fdata), and writes expected.json.

The Swift tests only read the committed files and numbers; they never run Python.
"""
import argparse
import gzip
import json
import os
import shutil
import struct

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "VolumeIOTests", "Fixtures", "nifti"))

REAL_FILES = {
    # fixture name: path under shared/data
    "anatomical_be_int16.nii": "io-tests/nifti/nibabel_tests/anatomical.nii",
    "example_nifti2_4d.nii.gz": "io-tests/nifti/nibabel_tests/example_nifti2.nii.gz",
    "functional_4d.nii": "io-tests/nifti/nibabel_tests/functional.nii",
    "standard_sform_only.nii.gz": "io-tests/nifti/nibabel_tests/standard.nii.gz",
    "reoriented_anat_be_float32.nii": "io-tests/nifti/nibabel_tests/reoriented_anat_moved.nii",
    "dipy_aniso_vox_lps.nii.gz": "io-tests/nifti/dipy/aniso_vox.nii.gz",
    "dipy_small_25_4d_uint8.nii.gz": "io-tests/nifti/dipy/small_25.nii.gz",
    "breast1_image.nii.gz": "dev-eval/pyradiomics/breast1_image.nii.gz",
    "breast1_label.nii.gz": "dev-eval/pyradiomics/breast1_label.nii.gz",
}


def make(name, data, *, sform=None, scode=0, qform=None, qcode=0, zooms=None, nifti2=False,
         slope=None, inter=None, units=("mm", "sec")):
    """Writes `data` with exactly the given header fields (affine=None keeps nibabel from rewriting them)."""
    hdr = nib.Nifti2Header() if nifti2 else nib.Nifti1Header()
    hdr.set_data_dtype(data.dtype)
    hdr.set_data_shape(data.shape)
    if zooms is not None:
        hdr.set_zooms(zooms)
    hdr.set_qform(qform, code=qcode) if qform is not None else hdr.set_qform(None, code=0)
    hdr.set_sform(sform, code=scode) if sform is not None else hdr.set_sform(None, code=0)
    hdr.set_xyzt_units(*units)
    path = os.path.join(OUT, name)
    if slope is None:
        klass = nib.Nifti2Image if nifti2 else nib.Nifti1Image
        nib.save(klass(data, None, hdr), path)
    else:
        # Store the raw values with the scaling fields: nibabel's save would rescale the array instead.
        hdr["scl_slope"], hdr["scl_inter"] = slope, inter  # raw fields: nibabel refuses to *set* slope 0
        hdr["vox_offset"] = 352
        with open(path, "wb") as f:
            hdr.write_to(f)
            f.write(b"\0" * (352 - f.tell()))
            f.write(data.tobytes(order="F"))
    back = nib.load(path)
    assert int(back.header["qform_code"]) == qcode and int(back.header["sform_code"]) == scode, name
    return path


def rotation(ax, deg):
    t = np.deg2rad(deg)
    c, s = np.cos(t), np.sin(t)
    m = {0: [[1, 0, 0], [0, c, -s], [0, s, c]], 1: [[c, 0, s], [0, 1, 0], [-s, 0, c]], 2: [[c, -s, 0], [s, c, 0], [0, 0, 1]]}
    return np.array(m[ax])


def affine(linear, translation):
    a = np.eye(4)
    a[:3, :3] = linear
    a[:3, 3] = translation
    return a


def phantom(shape, seed):
    """A smooth, asymmetric int16 image: gradients plus an off-centre blob, so flips and swaps show."""
    rng = np.random.default_rng(seed)
    i, j, k = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    c = [0.3 * shape[0], 0.6 * shape[1], 0.4 * shape[2]]
    blob = 800 * np.exp(-(((i - c[0]) / 5) ** 2 + ((j - c[1]) / 7) ** 2 + ((k - c[2]) / 3) ** 2))
    img = 100 + 7 * i + 3 * j + 11 * k + blob + rng.normal(0, 5, shape)
    return np.round(img).astype(np.int16)


def synthetic():
    os.makedirs(OUT, exist_ok=True)
    small = phantom((6, 7, 5), 1)

    oblique = affine(rotation(2, 20) @ rotation(0, -12) @ np.diag([0.8, 1.1, 2.4]), [-30.5, 12.25, 41.0])
    oblique[0, 1] += 0.05  # a slight shear too: sforms need not be rigid
    make("oblique_sform.nii.gz", small, sform=oblique, scode=2)

    q_aff = affine(rotation(1, 30) @ np.diag([1.0, 1.5, 2.0]), [10, -20, 30])
    s_aff = affine(np.diag([-0.9, 1.2, 2.2]), [55, -70, -12])
    make("sform_qform_differ.nii", small, sform=s_aff, scode=4, qform=q_aff, qcode=1)

    # qform only, with a left-handed linear part (qfac = -1) and a garbage sform that must be ignored (code 0).
    q_left = affine(rotation(2, -35) @ np.diag([1.3, 0.7, -2.5]), [1.5, 2.5, -3.5])
    make("qform_only_qfac_neg.nii.gz", small, qform=q_left, qcode=2, sform=np.diag([9, 9, 9, 1.0]), scode=0)

    make("no_transform.nii", small, zooms=(0.9, 1.1, 2.5))

    # The same anatomy stored in three voxel orders; slicing must give identical model inputs.
    ras = phantom((40, 48, 24), 2)
    ras_aff = affine(np.diag([1.0, 1.2, 3.0]), [-20.0, -30.0, -35.0])
    ras_img = nib.Nifti1Image(ras, ras_aff)
    for codes in ["RAS", "LAS", "LIA"]:
        cur = nib.orientations.io_orientation(ras_aff)
        target = nib.orientations.axcodes2ornt(codes)
        img = ras_img.as_reoriented(nib.orientations.ornt_transform(cur, target))
        data = np.asanyarray(img.dataobj).astype(np.int16)
        make(f"phantom_{codes.lower()}.nii.gz", data, sform=img.affine, scode=1, qform=img.affine, qcode=1)
    # Its label: a sphere around the blob (value 3) and a box (value 5), in each storage order too.
    i, j, k = np.meshgrid(*[np.arange(n, dtype=float) for n in ras.shape], indexing="ij")
    lab = np.zeros(ras.shape, np.uint8)
    lab[((i - 12) * 1.0) ** 2 + ((j - 29) * 1.2) ** 2 + ((k - 10) * 3.0) ** 2 <= 9.0 ** 2] = 3
    lab[28:35, 5:15, 15:20] = 5
    lab_img = nib.Nifti1Image(lab, ras_aff)
    for codes in ["RAS", "LIA"]:
        cur = nib.orientations.io_orientation(ras_aff)
        img = lab_img.as_reoriented(nib.orientations.ornt_transform(cur, nib.orientations.axcodes2ornt(codes)))
        make(f"phantom_{codes.lower()}_label.nii.gz", np.asanyarray(img.dataobj).astype(np.uint8),
             sform=img.affine, scode=1, qform=img.affine, qcode=1)

    # NIfTI-2 with a translation that float32 could not hold.
    n2_aff = affine(rotation(0, 8) @ np.diag([0.7, 0.7, 1.9]), [123.456789012345, -98.7654321098765, 0.000123456789])
    make("nifti2_double.nii.gz", small.astype(np.float32) / 7, sform=n2_aff, scode=1, qform=n2_aff, qcode=1, nifti2=True)

    eye = affine(np.diag([2.0, 2.0, 2.0]), [0, 0, 0])
    make("scaled_int16.nii", small, sform=eye, scode=1, slope=0.5, inter=-10.0)
    make("scaled_slope0.nii", small, sform=eye, scode=1, slope=0.0, inter=5.0)

    values = np.array([0, 1, 2, 3, 100, 127, 5, 9, 17, 33, 64, 120], dtype=float).reshape(2, 3, 2)
    signed = values * np.where(np.arange(12).reshape(2, 3, 2) % 3 == 0, -1, 1)
    for dtype in ["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]:
        v = values if dtype.startswith("u") else signed
        if dtype.startswith("float"):
            v = v + 0.0
        make(f"dtype_{dtype}.nii", v.astype(dtype), sform=eye, scode=1)
    big = values.astype(np.uint32)
    big[1, 2, 1] = 3_000_000_000
    make("label_too_big_uint32.nii", big, sform=eye, scode=1)
    make("label_fraction_float32.nii", (values / 4).astype(np.float32), sform=eye, scode=1)

    four = np.stack([small + 1000 * t for t in range(3)], axis=-1).astype(np.int16)
    make("fourd_3vols.nii.gz", four, sform=oblique, scode=1, qform=q_aff, qcode=1, zooms=(0.8, 1.1, 2.4, 2.0))
    make("fourd_1vol.nii", small[..., None], sform=eye, scode=1, zooms=(2, 2, 2, 1.5))

    broken()


def patch(path, offset, fmt, *values):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(struct.pack(fmt, *values))


def broken():
    """Files every reader must refuse with a clear error (not part of expected.json's readable set)."""
    eye = np.eye(4)
    d = np.zeros((4, 4, 4), np.int16)
    base = make("bad_wrong_magic.nii", d, sform=eye, scode=1)
    patch(base, 344, "4s", b"xyz\0")
    p = make("bad_dims_overflow.nii", np.zeros((2, 2, 2, 2, 2, 2, 2), np.uint8), sform=eye, scode=1)
    patch(p, 40, "<8h", 7, 32767, 32767, 32767, 32767, 32767, 32767, 32767)
    p = make("bad_too_large.nii", d, sform=eye, scode=1)
    patch(p, 40, "<8h", 3, 32767, 32767, 32767, 1, 1, 1, 1)
    p = make("bad_dim_zero.nii", d, sform=eye, scode=1)
    patch(p, 40, "<8h", 3, 4, 0, 4, 1, 1, 1, 1)
    p = make("bad_unsupported_rgb24.nii", d, sform=eye, scode=1)
    patch(p, 70, "<hh", 128, 24)
    p = make("bad_unsupported_complex64.nii", d, sform=eye, scode=1)
    patch(p, 70, "<hh", 32, 64)
    p = make("bad_truncated_uncompressed.nii", d, sform=eye, scode=1)
    with open(p, "r+b") as f:
        f.truncate(352 + 40)
    # A valid-looking gzip header that claims 1000^3 uint8 voxels (under the voxel limit) with no data behind it.
    p = make("bad_huge_claim.nii", np.zeros((4, 4, 4), np.uint8), sform=eye, scode=1)
    patch(p, 40, "<8h", 3, 1000, 1000, 1000, 1, 1, 1, 1)
    with open(p, "rb") as f, gzip.open(p + ".gz", "wb") as g:
        g.write(f.read())
    os.remove(p)
    with open(os.path.join(OUT, "bad_not_nifti.nii"), "wb") as f:
        f.write(b"This is a text file, not an image.\n" * 20)
    # A real file cut in half: the gzip stream ends inside the voxel data.
    with open(os.path.join(OUT, "breast1_image.nii.gz"), "rb") as f:
        blob = f.read()
    with open(os.path.join(OUT, "bad_truncated.nii.gz"), "wb") as f:
        f.write(blob[: len(blob) // 2])
    os.makedirs(os.path.join(OUT, "bad_directory.nii"), exist_ok=True)
    with open(os.path.join(OUT, "bad_directory.nii", ".keep"), "w") as f:
        f.write("a directory named like a NIfTI file\n")


def expected_for(path):
    img = nib.load(path)
    hdr = img.header
    shape = img.shape
    nvol = int(np.prod(shape[3:])) if len(shape) > 3 else 1
    shape3 = list(shape[:3]) + [1] * (3 - len(shape[:3]))
    aff = hdr.get_best_affine()
    corners = []
    for c in range(8):
        ijk = [(shape3[a] - 1) if (c >> a) & 1 else 0 for a in range(3)]
        corners.append({"ijk": ijk, "xyz": (aff @ np.array(ijk + [1.0]))[:3].tolist()})
    data = np.asanyarray(img.dataobj)
    vol = 1 if nvol > 1 else 0
    vdata = data.reshape(shape3 + [nvol], order="F")[..., vol] if nvol > 1 else data.reshape(shape3, order="F")
    rng = np.random.default_rng(7)
    picks = [[0, 0, 0], [s - 1 for s in shape3]] + [[int(rng.integers(0, s)) for s in shape3] for _ in range(4)]
    samples = [{"ijk": p, "value": float(vdata[tuple(p)])} for p in picks]
    source = "sform" if hdr["sform_code"] != 0 else ("qform" if hdr["qform_code"] != 0 else "pixdim")
    # nibabel moves the scaling from the loaded header into the array proxy.
    slope, inter = float(img.dataobj.slope), float(img.dataobj.inter)
    return {
        "version": 2 if isinstance(hdr, nib.Nifti2Header) else 1,
        "shape": shape3,
        "volumes": nvol,
        "sample_volume": vol,
        "datatype": int(hdr["datatype"]),
        "affine": aff.tolist(),
        "transform": source,
        "axcodes": "".join(nib.aff2axcodes(aff)),
        "corners": corners,
        "samples": samples,
        "qform_code": int(hdr["qform_code"]),
        "sform_code": int(hdr["sform_code"]),
        "pixdim": [float(x) for x in hdr["pixdim"]],
        "quatern": [float(hdr[k]) for k in ["quatern_b", "quatern_c", "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z"]],
        "srow": [float(x) for r in ["srow_x", "srow_y", "srow_z"] for x in hdr[r]],
        "scaling": None if (slope, inter) == (1.0, 0.0) else [slope, inter],
        "sum": float(np.sum(vdata, dtype=np.float64)),
        "nonzero": int(np.count_nonzero(vdata)),
        # The default intensity window of the slicer: numpy's linear-interpolated percentiles over all voxels
        # (computed on the float32 values the Swift reader returns).
        "percentiles": [float(x) for x in np.percentile(vdata.astype(np.float32).astype(np.float64), [0.5, 99.5])],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("UNIVERSEG_DATA")
                    or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data"))
    args = ap.parse_args()
    # Start clean, but keep the hand-written SOURCES.md.
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name != "SOURCES.md":
            path = os.path.join(OUT, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    for name, rel in REAL_FILES.items():
        shutil.copyfile(os.path.join(args.data, rel), os.path.join(OUT, name))
    synthetic()
    expected = {}
    for name in sorted(os.listdir(OUT)):
        if name.startswith("bad_") or not (name.endswith(".nii") or name.endswith(".nii.gz")):
            continue
        expected[name] = expected_for(os.path.join(OUT, name))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    print(f"wrote {len(expected)} expected entries to {OUT}")


if __name__ == "__main__":
    main()
