import FuzzSupport
import Foundation
import SegPipeline

/// The pipeline definition parser and checker, with every diagnostic rendered against the source as `validate`
/// prints them. Relative folders resolve inside an empty scratch folder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPipelineYaml(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = ScratchFile.text(start, count)
    let (_, diagnostics) = PipelineSpecParser.check(text, file: "fuzz.yaml", baseFolder: ScratchFile.folder)
    for diagnostic in diagnostics { _ = diagnostic.rendered(source: text) }
    return 0
}
