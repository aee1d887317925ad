import Foundation

/// How the NRRD, MetaImage and MGH writers commit a file: atomically (temporary name, then rename), after reading the
/// temporary file back with `verify`; every failure is one `writeFailed` naming the destination, never the temporary.
enum VerifiedWrite {
    static func write(_ data: Data, to url: URL, verify: (URL) throws -> Bool) throws {
        let path = url.path
        do {
            try AtomicFile.write(to: url) { temporary in
                try data.write(to: temporary)
                guard try verify(temporary) else {
                    throw VolumeIOError.writeFailed(path: path, reason: "the written file does not read back as written")
                }
            }
        } catch let error as VolumeIOError {
            if case .writeFailed(_, let reason) = error { throw VolumeIOError.writeFailed(path: path, reason: reason) }
            throw VolumeIOError.writeFailed(path: path, reason: error.reason)
        } catch {
            throw VolumeIOError.writeFailed(path: path, reason: error.localizedDescription)
        }
    }

    /// Refuses a grid that is not a valid 3D volume before anything is written.
    static func checkGrid<Voxel>(_ volume: Volume<Voxel>, path: String) throws {
        guard volume.shape.count == 3, volume.shape.allSatisfy({ $0 > 0 }), volume.voxels.count == volume.count,
              volume.affine.inverse != nil else {
            throw VolumeIOError.writeFailed(path: path, reason: "shape \(volume.shape) or affine is not a valid 3D grid")
        }
    }
}
