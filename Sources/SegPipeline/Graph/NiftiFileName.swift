/// NIfTI file names as the pipeline sees them: `NAME.nii.gz` or `NAME.nii` (".nii.gz" is tested first).
enum NiftiFileName {
    static let extensions = [".nii.gz", ".nii"]

    /// The NIfTI extension `name` ends with, or nil when it is not a NIfTI file name.
    static func `extension`(of name: String) -> String? {
        extensions.first { name.hasSuffix($0) }
    }

    /// `name` without its NIfTI extension; `name` itself when it has none.
    static func stem(_ name: String) -> String {
        `extension`(of: name).map { String(name.dropLast($0.count)) } ?? name
    }
}
