import FuzzSupport
import Foundation
import VolumeIO

/// DICOM parsing through the DCMTK shim: the input is one file, or, split at each "SPLITSLICE" marker, a small
/// series of files in one folder; scanned and every series read as a volume.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDicom(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Data(bytes: start, count: count)
    let series = ScratchFile.folder.appendingPathComponent("series")
    try? FileManager.default.removeItem(at: series)
    try? FileManager.default.createDirectory(at: series, withIntermediateDirectories: true)
    var parts: [Data] = []
    var rest = bytes[...]
    while let marker = rest.range(of: Data("SPLITSLICE".utf8)), parts.count < 7 {
        parts.append(Data(rest[..<marker.lowerBound]))
        rest = rest[marker.upperBound...]
    }
    parts.append(Data(rest))
    for (n, part) in parts.enumerated() {
        FileManager.default.createFile(atPath: series.appendingPathComponent("\(n).dcm").path, contents: part)
    }
    _ = DicomReader.readAll(parts.count == 1 ? series.appendingPathComponent("0.dcm") : series)
    return 0
}
