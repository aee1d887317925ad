import Foundation

/// NIfTI files in an inspection: .nii, .nii.gz, and .hdr/.img pairs (paired by `NiftiFileName`'s rule), read
/// through `NiftiReader`.
extension InspectionReport {
    /// Reads the NIfTI files among `files`: the header first (cheap, validates geometry), then volume 0 for the
    /// intensity range. A .img is read through its .hdr; one with no .hdr beside it is listed with that reason.
    static func inspectNifti(_ files: [String]) -> (volumes: [VolumeEntry], skipped: [Skipped]) {
        var volumes: [VolumeEntry] = [], skipped: [Skipped] = []
        let listed = Set(files)
        var headers: [String] = []
        for path in files {
            if NiftiFileName.isReadable(path) { headers.append(path); continue }
            guard let header = NiftiFileName.pairHeader(ofData: path) else {
                skipped.append(Skipped(path: path, reason: "image data of an Analyze/NIfTI pair, but no .hdr beside it"))
                continue
            }
            if !listed.contains(header) { headers.append(header) }   // `inspect x.img`: read its pair
        }
        for path in headers {
            let data = NiftiFileName.pairData(ofHeader: path)
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

    /// sform and qform corners closer than this (mm) are not reported: float32 quaternions alone put the corners
    /// of ordinary files ~0.02 mm apart.
    static let sformQformWarningDistance = 0.1

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
            if distance > sformQformWarningDistance {
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
    static func largestCornerDistance(_ a: Affine, _ b: Affine, shape: [Int]) -> Double {
        var largest = 0.0
        for (p, q) in zip(cornerCentres(a, shape: shape), cornerCentres(b, shape: shape)) {
            let squared: Double = zip(p, q).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            largest = max(largest, squared.squareRoot())
        }
        return largest
    }
}
