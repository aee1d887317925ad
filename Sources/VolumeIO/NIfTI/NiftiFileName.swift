/// Single-file NIfTI names: `NAME.nii.gz` or `NAME.nii`, the extension in any case (libnifti opens both, and
/// exports from Windows tools often say `.NII.GZ`).
public enum NiftiFileName {
    static let extensions = [".nii.gz", ".nii"]
    /// The header of a .hdr/.img pair, which the reader also opens.
    static let pairHeaderExtensions = [".hdr.gz", ".hdr"]

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
}
