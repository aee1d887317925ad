import Foundation

/// Checks the NRRD, MetaImage and MGH readers share, so each refuses the same things with the same words.
enum HeaderChecks {
    /// The voxel count of a 3D grid: every size positive, the product within `NiftiReader.maximumVoxels` (absurd
    /// dimensions are refused before anything is allocated).
    static func voxelCount(_ sizes: [Int], path: String) throws -> Int {
        guard sizes.count == 3, sizes.allSatisfy({ $0 > 0 }) else {
            throw VolumeIOError.invalidDimensions(path: path, reason: "sizes \(sizes) are not three positive numbers")
        }
        var total = 1
        for size in sizes {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow, product <= NiftiReader.maximumVoxels else {
                throw VolumeIOError.tooLarge(path: path, voxels: overflow ? Int.max : product, limit: NiftiReader.maximumVoxels)
            }
            total = product
        }
        return total
    }

    /// `affine` when it is finite and invertible.
    static func geometry(_ affine: Affine, path: String, what: String) throws -> Affine {
        guard affine.values.allSatisfy(\.isFinite), affine.inverse != nil else {
            throw VolumeIOError.invalidGeometry(path: path, reason: "\(what) is singular or not finite")
        }
        return affine
    }

    /// The leading bytes of a text header: up to `limit` bytes of the file.
    static func leadingBytes(_ path: String, limit: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw VolumeIOError.fileNotFound(path: path) }
        defer { try? handle.close() }
        return [UInt8]((try? handle.read(upToCount: limit)) ?? Data())
    }

    /// A double as text that reads back as exactly the same double (Swift's shortest round-trip form).
    static func text(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    }
}
