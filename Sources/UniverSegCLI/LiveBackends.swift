import Foundation
import SegPipeline

/// Builds the real backends (VolumeIO readers/writers, the model-grid slicer, the UniverSeg engine) for the
/// pipeline commands. This is the single place where SegPipeline's seams meet the other modules.
enum LiveBackends {
    static func make(weights: URL?, threads: Int) throws -> PipelineBackends {
        // The NIfTI/DICOM readers and writers (VolumeIO) and the engine (UniverSeg) are built on other branches;
        // until they are merged this build cannot segment real files, and says so instead of pretending.
        throw PipelineError.unavailable(
            "this build of universeg has no NIfTI/DICOM reader or UniverSeg engine linked into the pipeline yet")
    }
}
