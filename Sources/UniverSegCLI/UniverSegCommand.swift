import ArgumentParser
import SegPipeline

@main
struct UniverSegCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "universeg",
        abstract: "In-context medical image segmentation (UniverSeg) for NIfTI and DICOM studies.",
        version: ToolInfo.version,
        subcommands: [RunCommand.self, SegmentCommand.self, WatchCommand.self, ValidateCommand.self, InspectCommand.self,
                      InferCommand.self, EvaluateCommand.self, SummaryCommand.self, SlurmCommand.self, SupportCommand.self]
    )
}
