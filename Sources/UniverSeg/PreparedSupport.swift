/// A support set made ready for many queries: validated, and with everything that does not depend on the query
/// computed once (the mean support input and, unless it was prepared for one query, the first block's support-side
/// part, count x H x W x F0 floats: 4 MiB per element at 128x128 for the width-64 model).
///
/// Immutable and Sendable: share one across threads. It belongs to the model that prepared it.
public final class PreparedSupport: Sendable {
    /// Number of support elements (image, label pairs).
    public let count: Int
    public let height: Int
    public let width: Int
    /// Things that are legal but probably not what the caller meant (e.g. an all-zero label), one line each.
    public let warnings: [String]

    let cache: SupportCache
    let modelIdentity: ObjectIdentifier

    init(cache: SupportCache, warnings: [String], model: UniverSegModel) {
        self.count = cache.count
        self.height = cache.height
        self.width = cache.width
        self.warnings = warnings
        self.cache = cache
        self.modelIdentity = ObjectIdentifier(model)
    }

    /// Bytes held by the cached tensors.
    public var byteCount: Int { cache.meanInput.count * MemoryLayout<Float>.size + cache.first.byteCount }
}
