import FuzzSupport
import Foundation
import SegPipeline

/// An evaluation task's task.yaml (labels, axis, normalize).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTaskYaml(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    _ = try? EvaluationTaskConfig.parse(ScratchFile.text(start, count), file: "task.yaml")
    return 0
}
