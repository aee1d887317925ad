#!/usr/bin/env python3
"""Builds the NRRD, MetaImage and MGH test fixtures of Tests/VolumeIOTests/Fixtures/formats and their expected geometry.

Run once (needs Tools/format_fixtures/requirements.txt):

    python Tools/format_fixtures/make_format_fixtures.py [--data SHARED_DATA]   (default: $UNIVERSEG_DATA or <repo>/../shared/data)

1. Writes small synthetic volumes with oblique directions in every layout the readers handle: NRRD (attached and
   detached, raw / gzip / text, spaces RAS, LPS, LAS, scanner-xyz, 3D-right-handed, none), MetaImage (.mha compressed,
   .mhd + raw, big-endian), MGH (.mgh, .mgz, goodRASFlag 0) and copies nibabel's real test.mgz from shared/data.
2. Reads every file back with an implementation independent of ours (SimpleITK for NRRD and MetaImage, ITK's LPS
   converted to RAS by negating x and y; nibabel for MGH) and writes expected.json: the 4x4 RAS affine, the world
   coordinates of the 8 corner voxel centres, the shape, and the values of a few voxels.
3. Writes broken files (truncated, bad header, absurd dimensions, bad encoding) that every reader must refuse.

The Swift tests only read the committed files and numbers; they never run Python.
"""
import argparse
import gzip
import json
import os
import shutil
import struct

import nibabel as nib
import nrrd
import numpy as np
import SimpleITK as sitk

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "VolumeIOTests", "Fixtures", "formats"))
SHAPE = (5, 4, 3)  # i, j, k


def rotation(ax, deg):
    t = np.deg2rad(deg)
    c, s = np.cos(t), np.sin(t)
    m = {0: [[1, 0, 0], [0, c, -s], [0, s, c]], 1: [[c, 0, s], [0, 1, 0], [-s, 0, c]], 2: [[c, -s, 0], [s, c, 0], [0, 0, 1]]}
    return np.array(m[ax])


# An oblique frame with a flipped axis, and anisotropic voxels: every sign and permutation mistake shows.
OBLIQUE = rotation(2, 30) @ rotation(0, -20) @ np.diag([1.0, -1.0, 1.0])
SPACING = np.array([0.75, 1.25, 2.5])
ORIGIN = np.array([-12.5, 30.25, 7.0])


def ramp(dtype):
    """Values that identify their voxel: v = i + 10 j + 100 k (+0.25 for floats), i fastest."""
    i, j, k = np.meshgrid(*[np.arange(n) for n in SHAPE], indexing="ij")
    v = i + 10 * j + 100 * k
    return (v + 0.25).astype(dtype) if np.dtype(dtype).kind == "f" else v.astype(dtype)


def nrrd_header(space, directions, origin, dtype, encoding, endian="little", extra=""):
    names = {"int16": "short", "uint16": "ushort", "uint8": "uchar", "float32": "float", "float64": "double", "int32": "int"}
    text = f"NRRD0004\n# made by Tools/format_fixtures\ntype: {names[np.dtype(dtype).name]}\ndimension: 3\n"
    if space:
        text += f"space: {space}\n"
    text += f"sizes: {' '.join(map(str, SHAPE))}\n"
    if directions is not None:
        text += "space directions: " + " ".join("(" + ",".join(repr(float(x)) for x in d) + ")" for d in directions) + "\n"
    text += f"kinds: domain domain domain\nendian: {endian}\nencoding: {encoding}\n"
    if origin is not None:
        text += "space origin: (" + ",".join(repr(float(x)) for x in origin) + ")\n"
    return text + extra


def data_bytes(data, endian="<"):
    return data.astype(data.dtype.newbyteorder(endian)).tobytes(order="F")


def write_nrrd_fixtures():
    d = os.path.join(OUT, "nrrd")
    os.makedirs(d, exist_ok=True)
    directions = (OBLIQUE * SPACING).T  # one row per voxel axis, in the named space
    # 1. SimpleITK's own writer: LPS, gzip, oblique.
    img = sitk.GetImageFromArray(np.transpose(ramp(np.int16), (2, 1, 0)))
    img.SetSpacing(SPACING.tolist()); img.SetOrigin(ORIGIN.tolist()); img.SetDirection(OBLIQUE.flatten().tolist())
    sitk.WriteImage(img, os.path.join(d, "lps_gzip_sitk.nrrd"), useCompression=True)
    # 2. RAS, raw, big-endian float, attached.
    with open(os.path.join(d, "ras_raw_float_be.nrrd"), "wb") as f:
        f.write((nrrd_header("right-anterior-superior", directions, ORIGIN, np.float32, "raw", "big") + "\n").encode())
        f.write(data_bytes(ramp(np.float32), ">"))
    # 3. LAS, detached gzip data (.nhdr + .raw.gz).
    with open(os.path.join(d, "las_detached.nhdr"), "w") as f:
        f.write(nrrd_header("LAS", directions, ORIGIN, np.uint16, "gzip", extra="data file: las_detached.raw.gz\n"))
    with gzip.open(os.path.join(d, "las_detached.raw.gz"), "wb") as f:
        f.write(data_bytes(ramp(np.uint16)))
    # 4. scanner-xyz, detached raw with a byte skip.
    with open(os.path.join(d, "scanner_xyz_skip.nhdr"), "w") as f:
        f.write(nrrd_header("scanner-xyz", directions, ORIGIN, np.int16, "raw", extra="byte skip: 16\ndata file: scanner_xyz_skip.raw\n"))
    with open(os.path.join(d, "scanner_xyz_skip.raw"), "wb") as f:
        f.write(b"\x7f" * 16 + data_bytes(ramp(np.int16)))
    # 5. 3D-right-handed, text encoding.
    with open(os.path.join(d, "right_handed_text.nrrd"), "w") as f:
        f.write(nrrd_header("3D-right-handed", directions, ORIGIN, np.float64, "ascii") + "\n")
        f.write("\n".join(repr(float(x)) for x in ramp(np.float64).flatten(order="F")) + "\n")
    # 6. No space at all: spacings only.
    with open(os.path.join(d, "spacings_only.nrrd"), "wb") as f:
        text = nrrd_header(None, None, None, np.uint8, "raw").replace("kinds:", "spacings: 0.5 0.75 3\nkinds:")
        f.write((text + "\n").encode())
        f.write(data_bytes(ramp(np.uint8)))
    # 7. A 3D Slicer segmentation written by pynrrd (labels, Segment keys), LPS gzip.
    labels = np.zeros(SHAPE, np.uint8); labels[1:3, 1:3, 1] = 1; labels[3:, :, 2] = 2
    header = {"type": "unsigned char", "dimension": 3, "space": "left-posterior-superior",
              "space directions": directions, "space origin": ORIGIN, "kinds": ["domain"] * 3, "encoding": "gzip",
              "Segment0_ID": "Segment_1", "Segment0_Name": "liver", "Segment0_LabelValue": "1", "Segment0_Layer": "0",
              "Segment0_Color": "0.5 0.2 0.1", "Segment1_ID": "Segment_2", "Segment1_Name": "spleen",
              "Segment1_LabelValue": "2", "Segment1_Layer": "0", "Segment1_Color": "0.1 0.2 0.9"}
    nrrd.write(os.path.join(d, "slicer_labels.seg.nrrd"), labels, header, index_order="F")


def write_metaimage_fixtures():
    d = os.path.join(OUT, "metaimage")
    os.makedirs(d, exist_ok=True)
    img = sitk.GetImageFromArray(np.transpose(ramp(np.float32), (2, 1, 0)))
    img.SetSpacing(SPACING.tolist()); img.SetOrigin(ORIGIN.tolist()); img.SetDirection(OBLIQUE.flatten().tolist())
    sitk.WriteImage(img, os.path.join(d, "oblique_compressed.mha"), useCompression=True)
    img16 = sitk.GetImageFromArray(np.transpose(ramp(np.int16), (2, 1, 0)))
    img16.CopyInformation(img)
    sitk.WriteImage(img16, os.path.join(d, "oblique_raw.mhd"))
    # Big-endian data (MetaIO writes native order; this header says MSB and the data is swapped to match).
    text = open(os.path.join(d, "oblique_raw.mhd")).read()
    text = text.replace("BinaryDataByteOrderMSB = False", "BinaryDataByteOrderMSB = True")
    text = text.replace("oblique_raw.raw", "big_endian.raw")
    open(os.path.join(d, "big_endian.mhd"), "w").write(text)
    with open(os.path.join(d, "big_endian.raw"), "wb") as f:
        f.write(data_bytes(ramp(np.int16), ">"))
    # Labels, as ITK writes them.
    labels = np.zeros(SHAPE, np.uint8); labels[1:3, 1:3, 1] = 1; labels[3:, :, 2] = 2
    lab = sitk.GetImageFromArray(np.transpose(labels, (2, 1, 0)))
    lab.CopyInformation(img)
    sitk.WriteImage(lab, os.path.join(d, "labels_uchar.mha"), useCompression=True)


def write_mgh_fixtures(data_root):
    d = os.path.join(OUT, "mgh")
    os.makedirs(d, exist_ok=True)
    affine = np.eye(4); affine[:3, :3] = OBLIQUE * SPACING; affine[:3, 3] = ORIGIN
    nib.save(nib.MGHImage(ramp(np.float32), affine), os.path.join(d, "oblique_float.mgz"))
    lia = np.array([[-1.0, 0, 0, 10], [0, 0, 1, -20], [0, -1, 0, 30], [0, 0, 0, 1]])
    nib.save(nib.MGHImage(ramp(np.int16), lia), os.path.join(d, "lia_short.mgh"))
    labels = np.zeros(SHAPE, np.int32); labels[1:3, 1:3, 1] = 17; labels[3:, :, 2] = 1024
    nib.save(nib.MGHImage(labels, affine), os.path.join(d, "labels_int.mgz"))
    # goodRASFlag 0: the header's geometry must be ignored for FreeSurfer's default.
    src = os.path.join(d, "lia_short.mgh")
    raw = bytearray(open(src, "rb").read())
    raw[28:30] = struct.pack(">h", 0)
    open(os.path.join(d, "goodras0_uchar.mgh"), "wb").write(bytes(raw[:20]) + struct.pack(">i", 0) + bytes(raw[24:284])
                                                            + data_bytes(ramp(np.uint8), ">"))
    real = os.path.join(data_root, "io-tests/nifti/nibabel_tests/test.mgz")
    shutil.copyfile(real, os.path.join(d, "nibabel_test.mgz"))


def write_bad_fixtures():
    d = os.path.join(OUT, "bad")
    os.makedirs(d, exist_ok=True)
    good = open(os.path.join(OUT, "nrrd", "ras_raw_float_be.nrrd"), "rb").read()
    open(os.path.join(d, "truncated.nrrd"), "wb").write(good[:-37])
    gz = open(os.path.join(OUT, "nrrd", "lps_gzip_sitk.nrrd"), "rb").read()
    open(os.path.join(d, "truncated_gzip.nrrd"), "wb").write(gz[:-20])
    open(os.path.join(d, "bad_header.nrrd"), "wb").write(b"NRRD0004\ntype: short\nsizes: 5 4 3\nencoding: raw\n\n" + b"\0" * 120)
    open(os.path.join(d, "absurd_dims.nrrd"), "wb").write(
        (nrrd_header("LPS", np.eye(3), [0, 0, 0], np.int16, "raw").replace("sizes: 5 4 3", "sizes: 100000 100000 100000") + "\n").encode() + b"\0" * 64)
    open(os.path.join(d, "bad_encoding.nrrd"), "wb").write(
        (nrrd_header("LPS", np.eye(3), [0, 0, 0], np.int16, "bzip2") + "\n").encode() + b"BZh9" + b"\0" * 64)
    open(os.path.join(d, "not_nrrd.nrrd"), "wb").write(b"hello, this is not an image\n")

    mha = open(os.path.join(OUT, "metaimage", "oblique_compressed.mha"), "rb").read()
    open(os.path.join(d, "truncated.mha"), "wb").write(mha[:-25])
    open(os.path.join(d, "bad_header.mha"), "wb").write(b"ObjectType = Image\nNDims = 3\nElementType = MET_SHORT\nElementDataFile = LOCAL\n" + b"\0" * 120)
    open(os.path.join(d, "absurd_dims.mha"), "wb").write(
        b"ObjectType = Image\nNDims = 3\nDimSize = 200000 200000 200000\nElementType = MET_SHORT\nElementDataFile = LOCAL\n" + b"\0" * 64)
    head = mha[:mha.index(b"ElementDataFile = LOCAL\n") + len(b"ElementDataFile = LOCAL\n")]
    open(os.path.join(d, "bad_encoding.mha"), "wb").write(head + b"this is not zlib data at all" * 8)

    mgz = open(os.path.join(OUT, "mgh", "oblique_float.mgz"), "rb").read()
    open(os.path.join(d, "truncated.mgz"), "wb").write(mgz[:-40])
    open(os.path.join(d, "truncated_header.mgz"), "wb").write(mgz[:30])
    mgh = bytearray(open(os.path.join(OUT, "mgh", "lia_short.mgh"), "rb").read())
    bad = bytearray(mgh); bad[0:4] = struct.pack(">i", 7)
    open(os.path.join(d, "bad_header.mgh"), "wb").write(bytes(bad))
    absurd = bytearray(mgh); absurd[4:16] = struct.pack(">iii", 50000, 50000, 50000)
    open(os.path.join(d, "absurd_dims.mgh"), "wb").write(bytes(absurd))
    typed = bytearray(mgh); typed[20:24] = struct.pack(">i", 7)
    open(os.path.join(d, "bad_type.mgh"), "wb").write(bytes(typed))
    open(os.path.join(d, "not_gzip.mgz"), "wb").write(bytes(mgh))


def lps_to_ras(m):
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ m


def expected_sitk(path):
    img = sitk.ReadImage(path)
    direction = np.array(img.GetDirection()).reshape(3, 3)
    m = np.eye(4); m[:3, :3] = direction * np.array(img.GetSpacing()); m[:3, 3] = img.GetOrigin()
    array = sitk.GetArrayFromImage(img)  # k, j, i
    return lps_to_ras(m), tuple(img.GetSize()), lambda i, j, k: float(array[k, j, i])


def expected_nibabel(path):
    img = nib.load(path)
    data = np.asanyarray(img.dataobj)
    if data.ndim == 4:
        data = data[..., 0]
    return img.affine, tuple(int(x) for x in img.shape[:3]), lambda i, j, k: float(data[i, j, k])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.environ.get("UNIVERSEG_DATA", os.path.join(HERE, "..", "..", "..", "shared", "data")))
    args = parser.parse_args()
    write_nrrd_fixtures()
    write_metaimage_fixtures()
    write_mgh_fixtures(args.data)
    write_bad_fixtures()
    expected = {}
    readable = [("nrrd", n) for n in sorted(os.listdir(os.path.join(OUT, "nrrd"))) if n.endswith((".nrrd", ".nhdr"))]
    readable += [("metaimage", n) for n in sorted(os.listdir(os.path.join(OUT, "metaimage"))) if n.endswith((".mha", ".mhd"))]
    readable += [("mgh", n) for n in sorted(os.listdir(os.path.join(OUT, "mgh"))) if n.endswith((".mgh", ".mgz"))]
    for folder, name in readable:
        path = os.path.join(OUT, folder, name)
        affine, shape, value = (expected_nibabel if folder == "mgh" else expected_sitk)(path)
        reader = "nibabel " + nib.__version__ if folder == "mgh" else "SimpleITK " + sitk.Version.VersionString()
        if name == "goodras0_uchar.mgh":
            # FreeSurfer's mghRead ignores the geometry fields when goodRASFlag <= 0 and uses the coronal default
            # (setDirectionCosine MRI_CORONAL: x_r = -1, y_s = -1, z_a = 1; 1 mm; c_ras 0). nibabel 5.4.2 uses the
            # transpose of that Mdc, so here the expected affine is FreeSurfer's rule, computed with numpy.
            mdc = np.array([[-1.0, 0, 0], [0, 0, 1], [0, -1, 0]])  # columns: x, y, z directions in RAS
            affine = np.eye(4); affine[:3, :3] = mdc; affine[:3, 3] = -mdc @ (np.array(shape) / 2)
            reader = "FreeSurfer mghRead rule (numpy)"
        corners = [[i, j, k] for k in (0, shape[2] - 1) for j in (0, shape[1] - 1) for i in (0, shape[0] - 1)]
        samples = corners + [[1, 2, 1], [shape[0] // 2, shape[1] // 2, shape[2] // 2]]
        expected[f"{folder}/{name}"] = {
            "reader": reader,
            "shape": list(shape),
            "affine": affine.tolist(),
            "corners": [{"ijk": c, "xyz": (affine @ np.array(c + [1.0]))[:3].tolist()} for c in corners],
            "samples": [{"ijk": s, "value": value(*s)} for s in samples],
        }
    # pynrrd's header reading of the Slicer segmentation: the segment names a reader must see.
    _, seg = nrrd.read(os.path.join(OUT, "nrrd", "slicer_labels.seg.nrrd"))
    expected["nrrd/slicer_labels.seg.nrrd"]["segments"] = {seg["Segment0_Name"]: 1, seg["Segment1_Name"]: 2}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(expected)} readable fixtures to {OUT}")


if __name__ == "__main__":
    main()
