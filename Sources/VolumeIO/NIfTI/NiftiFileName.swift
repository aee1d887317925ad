/// Single-file NIfTI names: `NAME.nii.gz` or `NAME.nii`, the extension in any case (libnifti opens both, and
/// exports from Windows tools often say `.NII.GZ`).
public enum NiftiFileName {
    static let extensions = [".nii.gz", ".nii"]

    /// The NIfTI extension `name` ends with, as written there, or nil when it is not a NIfTI file name.
    public static func `extension`(of name: String) -> String? {
        let lower = name.lowercased()
        return extensions.first { lower.hasSuffix($0) }.map { String(name.suffix($0.count)) }
    }

    /// Whether `NiftiReader` opens a file of this name: single files, or the header of a .hdr/.img pair, any case.
    public static func isReadable(_ name: String) -> Bool {
        let lower = name.lowercased()
        return `extension`(of: name) != nil || lower.hasSuffix(".hdr") || lower.hasSuffix(".hdr.gz")
    }

    /// `name` without its NIfTI extension; `name` itself when it has none.
    public static func stem(_ name: String) -> String {
        `extension`(of: name).map { String(name.dropLast($0.count)) } ?? name
    }
}
