import Foundation
import VolumeIO

/// NIfTI files in `inspect`: .nii, .nii.gz, and .hdr/.img pairs, read through `NiftiReader`.
extension InspectReport {
    /// True for the data half of a .hdr/.img pair (.img, .img.gz).
    static func isPairData(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".img") || lower.hasSuffix(".img.gz")
    }

    /// The .hdr beside a .img (same folder, same stem), if there is one.
    static func pairHeader(ofData path: String) -> String? {
        let stem = path.hasSuffix(".gz") ? String(path.dropLast(7)) : String(path.dropLast(4))
        return [".hdr", ".HDR", ".hdr.gz"].map { stem + $0 }.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Reads the NIfTI files among `files`: the header first (cheap, validates geometry), then volume 0 for the
    /// intensity range. A .img is read through its .hdr; one with no .hdr beside it is listed with that reason.
    static func inspectNifti(_ files: [String]) -> (volumes: [VolumeEntry], skipped: [Skipped]) {
        var volumes: [VolumeEntry] = [], skipped: [Skipped] = []
        let listed = Set(files)
        var headers: [String] = []
        for path in files {
            if NiftiFileName.isReadable(path) { headers.append(path); continue }
            guard let header = pairHeader(ofData: path) else {
                skipped.append(Skipped(path: path, reason: "image data of an Analyze/NIfTI pair, but no .hdr beside it"))
                continue
            }
            if !listed.contains(header) { headers.append(header) }   // `inspect x.img`: read its pair
        }
        for path in headers {
            let data = pairData(ofHeader: path)
            do {
                var entry = try niftiEntry(URL(fileURLWithPath: path))
                if let data { entry.files.append(data) }
                volumes.append(entry)
            } catch {
                let reason = niftiReason(error, path: path)
                skipped.append(Skipped(path: path, reason: reason))
                if let data, listed.contains(data) {
                    skipped.append(Skipped(path: data, reason: "image data of \((path as NSString).lastPathComponent), which is not readable"))
                }
            }
        }
        return (volumes, skipped)
    }

    private static func pairData(ofHeader path: String) -> String? {
        let lower = path.lowercased()
        guard lower.hasSuffix(".hdr") || lower.hasSuffix(".hdr.gz") else { return nil }
        let stem = lower.hasSuffix(".gz") ? String(path.dropLast(7)) : String(path.dropLast(4))
        return [".img", ".IMG", ".img.gz"].map { stem + $0 }.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// One line for a NIfTI failure. A .hdr without NIfTI magic is most likely ANALYZE 7.5, which we refuse
    /// on purpose (its orientation is not defined by the file).
    private static func niftiReason(_ error: any Error, path: String) -> String {
        guard let error = error as? VolumeIOError else { return "\(error)" }
        if case .badMagic = error, path.lowercased().hasSuffix(".hdr") {
            return error.reason + "; probably ANALYZE 7.5, an unsupported format (its orientation is undefined)"
        }
        return error.reason
    }

    private static func niftiEntry(_ url: URL) throws -> VolumeEntry {
        let header = try NiftiReader.readHeader(url)
        let volume = try NiftiReader.readImage(url, volumeIndex: header.volumeCount > 1 ? 0 : nil)
        let name = url.lastPathComponent
        var description = "\(name) (NIfTI-\(header.version), \(header.datatype.name), \(header.transformSource.rawValue)"
        switch header.transformSource {
        case .sform: description += " \(niftiXformName(header.sformCode)))"
        case .qform: description += " \(niftiXformName(header.qformCode)))"
        case .pixdim: description += ")"
        }
        if !header.description.isEmpty { description += " '\(header.description)'" }
        return entry(volume, format: "NIfTI", description: description, files: [url.path],
                     warnings: niftiWarnings(header), modality: nil, seriesUID: nil, volumeCount: header.volumeCount)
    }

    /// Geometry a user should know about before trusting positions: no transform, sform and qform that disagree,
    /// units other than mm, a file whose spatial grid is a single voxel (CIFTI and other non-images).
    static func niftiWarnings(_ header: NiftiHeaderInfo) -> [String] {
        var warnings: [String] = []
        let spatial = header.spatial
        if header.volumeCount > 1 {
            warnings.append("4D file with \(header.volumeCount) volumes: the intensity range is of volume 0")
        }
        if header.transformSource == .pixdim {
            warnings.append("no sform or qform (both codes 0): the position comes from pixdim alone "
                + "(nibabel's fallback, LAS centred on 0); the orientation is a guess")
        }
        if spatial.sformCode > 0, spatial.qformCode > 0 {
            let distance = largestCornerDistance(spatial.sformAffine, spatial.qformAffine, shape: header.shape)
            // float32 quaternions alone put the corners of ordinary files ~0.02 mm apart: only report what matters.
            if distance > 0.1 {
                warnings.append("sform and qform differ by up to \(number(distance)) mm at the corners; using the sform (as nibabel)")
            }
        }
        switch spatial.xyztUnits & 0x07 {
        case 0, 2: break
        case 1: warnings.append("spatial units are metres (xyzt_units); coordinates are shown as stored, not in mm")
        case 3: warnings.append("spatial units are micrometres (xyzt_units); coordinates are shown as stored, not in mm")
        default: warnings.append("unknown spatial units code \(spatial.xyztUnits & 0x07) in xyzt_units")
        }
        if header.shape == [1, 1, 1] {
            warnings.append("the spatial grid is a single voxel: probably not an image (e.g. CIFTI or a table)")
        }
        return warnings
    }

    /// The largest distance (mm) between where two affines put the corner voxel centres of a grid.
    private static func largestCornerDistance(_ a: Affine, _ b: Affine, shape: [Int]) -> Double {
        var largest = 0.0
        for k in [0, shape[2] - 1] { for j in [0, shape[1] - 1] { for i in [0, shape[0] - 1] {
            let p = [Double(i), Double(j), Double(k)]
            let d = zip(a.apply(p), b.apply(p)).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            largest = max(largest, d)
        } } }
        return largest
    }
}
