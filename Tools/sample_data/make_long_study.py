"""Writes a NIfTI-1 study of N slices by repeating a sample study's slices (0, 1, ..., last, 0, 1, ...).

For benchmarks only: scripts/pipeline-benchmark.sh times a 256x256x180 study (the size issue #15 names) made from
SampleData's brain2 (256x256x23). Python standard library only (gzip, struct), so it runs without Tools/.venv.

    python3 Tools/sample_data/make_long_study.py SOURCE.nii.gz SLICES OUT.nii.gz
"""
import gzip
import struct
import sys


def main(source: str, slices: int, out: str) -> None:
    with gzip.open(source, "rb") as f:
        data = f.read()
    if struct.unpack_from("<i", data, 0)[0] != 348:
        sys.exit(f"{source}: not a little-endian NIfTI-1 file")
    dims = list(struct.unpack_from("<8h", data, 40))
    bitpix = struct.unpack_from("<h", data, 72)[0]
    offset = int(struct.unpack_from("<f", data, 108)[0])
    if dims[0] != 3:
        sys.exit(f"{source}: {dims[0]} dimensions, expected 3")
    slice_bytes = dims[1] * dims[2] * bitpix // 8
    voxels = data[offset:offset + slice_bytes * dims[3]]
    repeated = b"".join(voxels[(k % dims[3]) * slice_bytes:(k % dims[3] + 1) * slice_bytes] for k in range(slices))
    header = bytearray(data[:offset])
    struct.pack_into("<h", header, 46, slices)
    with gzip.open(out, "wb", compresslevel=1) as f:
        f.write(bytes(header) + repeated)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
