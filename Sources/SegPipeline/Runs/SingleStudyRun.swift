import Foundation
import VolumeIO

/// One study without a pipeline file (`universeg segment`): a volume file or a DICOM folder, straight through the graph.
public enum SingleStudyRun {
    public static func run(_ graph: JobGraph, study location: URL) async -> StudyOutcome {
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: location.path, isDirectory: &isFolder)
        let name = VolumeFile.stem(location.lastPathComponent)
        let study = StudyDiscovery.stamp(location, name: name, isFolder: isFolder.boolValue)
        let source = BoundedChannel<StudyInput>(capacity: 1)
        let log = OutcomeLog()
        async let feeding: Void = {
            await source.send(study)
            await source.finish()
        }()
        await graph.process(source) { await log.add($0) }
        await feeding
        return await log.all.first ?? StudyOutcome(study: study, status: .failed, reason: "the study produced no outcome")
    }
}
