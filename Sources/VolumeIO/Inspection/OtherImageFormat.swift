import Foundation

/// Names the image formats `inspect` does not read, so that a file the DICOM parser refused gets a reason a user can
/// act on ("unsupported format (MINC)") instead of "not a DICOM file".
enum OtherImageFormat {
    /// Suffix (lower case) to format name. Checked only after the file failed to parse as DICOM, so a DICOM file
    /// with an odd name is still read.
    static let suffixes: [(suffix: String, name: String)] = [
        (".mnc", "MINC"), (".mnc.gz", "MINC"),
        (".par", "Philips PAR/REC"), (".rec", "Philips PAR/REC"),
        (".head", "AFNI BRIK/HEAD"), (".brik", "AFNI BRIK/HEAD"), (".brik.gz", "AFNI BRIK/HEAD"),
    ]

    /// Documents and tables that commonly sit beside images.
    static let documentSuffixes = [".txt", ".md", ".rst", ".csv", ".tsv", ".json", ".yaml", ".yml", ".xml", ".html", ".pdf"]

    /// The reason for a file that is not DICOM, or nil when nothing better than the DICOM parser's reason is known.
    static func reason(for path: String) -> String? {
        let lower = path.lowercased()
        if let known = suffixes.first(where: { lower.hasSuffix($0.suffix) }) {
            return "unsupported format (\(known.name)); convert it to NIfTI or DICOM first"
        }
        if let suffix = documentSuffixes.first(where: { lower.hasSuffix($0) }) {
            return "not an image (a \(suffix) document)"
        }
        if isGzip(path) {
            return "a gzip-compressed file that is not a .nii.gz; decompress it first (gunzip)"
        }
        return nil
    }

    private static func isGzip(_ path: String) -> Bool {
        // Only regular files: opening a FIFO would block.
        guard (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular,
              let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 2)) == Data([0x1f, 0x8b])
    }
}
