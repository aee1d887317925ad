/// The UniverSeg engine as the job graph uses it. `UniverSegSegmenter` is the real one; graph-mechanics tests
/// (a hundred queued studies, failures, the watcher) pass a quick stand-in so they need no network weights.
public protocol Segmenter: Sendable {
    /// The foreground probability of each query slice, averaged over `supportSets` (the ensemble members).
    /// `progress` is called as query slices finish, with the number done so far (slices may finish several at a time).
    func probabilities(queries: [ModelSlice], supportSets: [[SupportExample]],
                       progress: (Int) -> Void) throws -> [ModelSlice]
    /// What the reports name as the model, e.g. "UniverSeg [64, 64, 64, 64] default.safetensors (fnv1a 1234…)".
    var modelDescription: String { get }
}
