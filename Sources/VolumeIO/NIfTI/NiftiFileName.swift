import Foundation

/// NIfTI file names: single files `NAME.nii.gz` or `NAME.nii`, and .hdr/.img pairs, the extension in any case
/// (libnifti opens both, and exports from Windows tools often say `.NII.GZ`).
///
/// The one pairing rule: the two halves of a pair share the stem, and the partner's extension is looked for first
/// in the case the given file's extension is written in (libnifti finds a `.HDR`'s data as `.IMG`), uncompressed
/// before compressed.
public enum NiftiFileName {
    static let extensions = [".nii.gz", ".nii"]
    /// The header of a .hdr/.img pair, which the reader also opens.
    static let pairHeaderExtensions = [".hdr.gz", ".hdr"]
    /// The image data of a .hdr/.img pair, read through its header.
    static let pairDataExtensions = [".img.gz", ".img"]

    /// The NIfTI extension `name` ends with, as written there, or nil when it is not a NIfTI file name.
    public static func `extension`(of name: String) -> String? {
        let lower = name.lowercased()
        return extensions.first { lower.hasSuffix($0) }.map { String(name.suffix($0.count)) }
    }

    /// Whether `NiftiReader` opens a file of this name: single files, or the header of a .hdr/.img pair, any case.
    public static func isReadable(_ name: String) -> Bool {
        let lower = name.lowercased()
        return `extension`(of: name) != nil || pairHeaderExtensions.contains { lower.hasSuffix($0) }
    }

    /// `name` without its NIfTI extension (.nii, .nii.gz, or a pair's .hdr), any case; `name` itself when it has none.
    public static func stem(_ name: String) -> String {
        let lower = name.lowercased()
        let suffix = (extensions + pairHeaderExtensions).first { lower.hasSuffix($0) }
        return suffix.map { String(name.dropLast($0.count)) } ?? name
    }

    /// Whether `name` is the header of a .hdr/.img pair (.hdr, .hdr.gz), any case.
    public static func isPairHeader(_ name: String) -> Bool {
        let lower = name.lowercased()
        return pairHeaderExtensions.contains { lower.hasSuffix($0) }
    }

    /// Whether `name` is the image data of a .hdr/.img pair (.img, .img.gz), any case.
    public static func isPairData(_ name: String) -> Bool {
        let lower = name.lowercased()
        return pairDataExtensions.contains { lower.hasSuffix($0) }
    }

    /// The existing data file (.img, .img.gz) of the pair header at `path`; nil when there is none, or when `path`
    /// is not a pair header. See also: `pairHeader(ofData:)`.
    public static func pairData(ofHeader path: String) -> String? {
        partner(of: path, from: pairHeaderExtensions, to: pairDataExtensions)
    }

    /// The existing header (.hdr, .hdr.gz) of the pair data file at `path`; nil when there is none, or when `path`
    /// is not pair data. See also: `pairData(ofHeader:)`.
    public static func pairHeader(ofData path: String) -> String? {
        partner(of: path, from: pairDataExtensions, to: pairHeaderExtensions)
    }

    /// The pairing rule (see the type's doc): the stem of `path` with each of `partners`, in the case of the given
    /// extension first, then in the other case; uncompressed before compressed.
    static func partnerCandidates(of path: String, from own: [String], to partners: [String]) -> [String] {
        let lower = path.lowercased()
        guard let ext = own.first(where: { lower.hasSuffix($0) }) else { return [] }
        let stem = String(path.dropLast(ext.count))
        let written = path.suffix(ext.count)
        let upperFirst = written == written.uppercased() && written != written.lowercased()
        let uncompressedFirst = partners.sorted { $0.count < $1.count }
        let lowerCase = uncompressedFirst, upperCase = uncompressedFirst.map { $0.uppercased() }
        return (upperFirst ? upperCase + lowerCase : lowerCase + upperCase).map { stem + $0 }
    }

    private static func partner(of path: String, from own: [String], to partners: [String]) -> String? {
        partnerCandidates(of: path, from: own, to: partners).first { FileManager.default.fileExists(atPath: $0) }
    }
}
