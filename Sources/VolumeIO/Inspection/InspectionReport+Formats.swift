import Diagnostics
import Foundation

/// NRRD, MetaImage and MGH files in an inspection, read through `VolumeFile`. A .nhdr's or .mhd's data file is part
/// of its volume, so it is not listed again (nor handed to the DICOM scan).
extension InspectionReport {
    /// Reads the NRRD, MetaImage and MGH files among `files`; returns the volumes, the files that could not be read,
    /// and the data files the readable headers name (which belong to those volumes).
    static func inspectVolumeFiles(_ files: [String]) -> (volumes: [VolumeEntry], skipped: [Skipped], dataFiles: Set<String>) {
        var volumes: [VolumeEntry] = [], skipped: [Skipped] = [], dataFiles: Set<String> = []
        for path in files {
            let url = URL(fileURLWithPath: path)
            do {
                let header = try VolumeFile.readHeader(url)
                let volume = try VolumeFile.readImage(url)
                dataFiles.formUnion(header.dataFiles)
                volumes.append(entry(volume, format: header.format.rawValue,
                                     description: "\(url.lastPathComponent) (\(header.format.rawValue), \(header.storage))",
                                     files: [path] + header.dataFiles, warnings: header.warnings, modality: nil, seriesUID: nil,
                                     volumeCount: header.volumeCount))
            } catch {
                skipped.append(Skipped(path: path, reason: ErrorText.problem(error)))
            }
        }
        return (volumes, skipped, dataFiles)
    }
}
