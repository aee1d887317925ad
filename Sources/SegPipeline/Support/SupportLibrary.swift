import Foundation

/// Folders of labelled examples (`LabelledPair`s) that support sets are drawn from.
public enum SupportLibrary {
    /// The examples a study uses: the pipeline's libraries, joined or replaced by the study's own folder.
    public static func pairs(libraries: [URL], studyFolder: URL?, mode: PerStudySupportMode) throws -> [LabelledPair] {
        var own: [LabelledPair] = []
        if let studyFolder {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: studyFolder.path, isDirectory: &isFolder), isFolder.boolValue {
                own = try LabelledPair.scan(studyFolder)
            }
        }
        if mode == .replace && !own.isEmpty { return own }
        var all = try libraries.flatMap { try LabelledPair.scan($0) }
        // A study's own example of the same name overrides the library's.
        let ownNames = Set(own.map(\.name))
        all.removeAll { ownNames.contains($0.name) }
        return all + own
    }
}
