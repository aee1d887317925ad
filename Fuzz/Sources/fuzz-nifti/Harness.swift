import FuzzSupport
import Foundation
import VolumeIO

/// NIfTI header and voxel reading: gzip input as .nii.gz; input whose first 4 bytes are "PAIR" as a .hdr/.img
/// pair (the next 348 bytes the header, the rest the image); anything else as .nii. Both the Float and the label
/// reader run, every volume of a 4D file up to 4.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNifti(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let url: URL
    if count >= 4, bytes.prefix(4).elementsEqual(Array("PAIR".utf8)) {
        let rest = UnsafeRawBufferPointer(rebasing: bytes[4...])
        let split = min(348, rest.count)
        _ = ScratchFile.write(UnsafeRawBufferPointer(rebasing: rest[split...]), "pair.img")
        url = ScratchFile.write(UnsafeRawBufferPointer(rebasing: rest[..<split]), "pair.hdr")
    } else if count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B {
        url = ScratchFile.write(bytes, "input.nii.gz")
    } else {
        url = ScratchFile.write(bytes, "input.nii")
    }
    let volumes = (try? NiftiReader.readHeader(url).volumeCount) ?? 1
    for index in 0 ..< min(volumes, 4) {
        _ = try? NiftiReader.readImage(url, volumeIndex: volumes > 1 ? index : nil)
        _ = try? NiftiReader.readLabels(url, volumeIndex: volumes > 1 ? index : nil)
    }
    return 0
}
