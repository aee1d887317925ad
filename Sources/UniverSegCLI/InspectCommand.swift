import ArgumentParser
import Foundation

/// `universeg inspect PATH [--json]`: lists the volumes in a file or folder and every other file with the reason.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the volumes (DICOM series, NIfTI files) in a file or folder, with their geometry.",
        discussion: """
            For each volume: dims, spacing, orientation letters, world bounding box (RAS+ mm, voxel centres), \
            intensity range and geometry warnings (4D NIfTI: the volume count, and volume 0). Every file that is in \
            no volume (unreadable, not an image, unsupported format such as MGH or MINC, duplicate slice) is listed \
            with the reason. \
            Exits with 0 when at least one volume was read.
            """)

    @Argument(help: "A file or folder (searched recursively).")
    var path: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let report = InspectReport.make(URL(fileURLWithPath: path))
        print(json ? report.json() : report.text())
        if report.volumes.isEmpty {
            FileHandle.standardError.write(Data("error: no readable volume in \(path)\n".utf8))
            throw ExitCode.failure
        }
    }
}
