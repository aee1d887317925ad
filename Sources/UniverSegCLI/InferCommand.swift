import ArgumentParser
import Foundation
import SegPipeline
import UniverSeg
import VolumeIO

/// `universeg infer`: raw engine access on NIfTI arrays, no preprocessing.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run the model on one 2D query and a support stack exactly as given (no preprocessing).",
        discussion: """
            The query is a 2D image (NIfTI W x H or W x H x 1) with values already in [0, 1]; support images and \
            labels are stacks W x H x S (or W x H x 1 x S), values in [0, 1]. NIfTI axis 0 is the model's width \
            axis (the fastest index) and axis 1 its height; sides must be multiples of 8 for the official model. \
            Nothing is reoriented, resampled or normalised.
            --logits receives the float32 logit map (before the sigmoid) on the query's grid and header geometry.
            With --ensemble K > 1, support element s joins set s mod K (round robin); the K sets run separately and \
            the output is logit(mean of the K sigmoid probabilities).
            Exit status: 0 written, 1 an input or output error (one line on stderr naming the file).
            """)

    @Option(help: "The 2D query image (.nii or .nii.gz), values in [0, 1].")
    var query: String

    @Option(help: "Support images: a W x H x S stack, values in [0, 1].")
    var supportImages: String

    @Option(help: "Support labels: a W x H x S stack, values in [0, 1] (binary masks or soft labels).")
    var supportLabels: String

    @Option(help: "Where the logit map is written (.nii or .nii.gz).")
    var logits: String

    @Option(help: "Ensemble members: the support stack is split round robin into this many sets.")
    var ensemble = 1

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard NiftiFileName.extension(of: logits) != nil else { throw ValidationError("--logits must end in .nii.gz or .nii") }
        try PathCheck.outputFile(logits, option: "--logits")
        for (option, path) in [("--query", query), ("--support-images", supportImages), ("--support-labels", supportLabels)] {
            try PathCheck.notEmpty(path, option: option)
        }
        guard (1...64).contains(ensemble) else { throw ValidationError("--ensemble must be from 1 to 64") }
        let inputs = [query, supportImages, supportLabels].map { URL(fileURLWithPath: $0) }
        if let input = InputGuard.input(containing: URL(fileURLWithPath: logits), inputs: inputs) {
            throw ValidationError("--logits \(logits) would overwrite the input \(input.path); choose another file")
        }
    }

    func run() throws {
        do {
            // The inputs first: a wrong file is reported before seconds go into loading the model.
            let queryImage = try RawInference.readQuery(URL(fileURLWithPath: query))
            let images = try RawInference.readStack(URL(fileURLWithPath: supportImages))
            let labels = try RawInference.readStack(URL(fileURLWithPath: supportLabels))
            let model = try engine.loadModelOrBundled()
            let (output, warnings) = try RawInference.logits(model: model, query: queryImage, images: images, labels: labels,
                                                 ensemble: ensemble, threads: engine.threads ?? UsableCores.count,
                                                 files: (query, supportImages, supportLabels))
            for warning in warnings { FileHandle.standardError.write(Data("\(warning)\n".utf8)) }
            try NiftiWriter.write(output, to: URL(fileURLWithPath: logits), description: "universeg logits")
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }
}

