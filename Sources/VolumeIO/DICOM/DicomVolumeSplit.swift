import Foundation

/// The attributes that tell repeated acquisitions of the same slice positions apart. Nil when absent (or, for a
/// volume, when its slices disagree).
public struct DicomVolumeKeys: Sendable, Equatable, Codable {
    /// TemporalPositionIdentifier (0020,0100).
    public var temporalPosition: Int?
    /// AcquisitionNumber (0020,0012).
    public var acquisitionNumber: Int?
    /// Diffusion b-value, s/mm²: DiffusionBValue (0018,9087), else Siemens CSA B_value, else Siemens (0019,100C).
    public var bValue: Double?
    /// Diffusion gradient direction: DiffusionGradientOrientation (0018,9089), else Siemens CSA
    /// DiffusionGradientDirection.
    public var gradientDirection: [Double]?
    /// EchoNumbers (0018,0086).
    public var echoNumber: Int?
    /// TriggerTime (0018,1060), ms.
    public var triggerTime: Double?

    public init() {}
}

/// Which of a series' volumes one `DicomSeries` is, when the series repeats its slice positions.
public struct DicomVolumeInfo: Sendable, Equatable, Codable {
    /// 0-based place in the series' volume order (see `DicomVolumeSplit`).
    public var index: Int
    /// Volumes of the series (1 when the positions do not repeat).
    public var count: Int
    /// The keys that separated the volumes, by name ("acquisition number", ...); empty for a single volume.
    public var splitBy: [String]
    /// Values shared by every slice of this volume.
    public var keys: DicomVolumeKeys

    public init(index: Int = 0, count: Int = 1, splitBy: [String] = [], keys: DicomVolumeKeys = .init()) {
        self.index = index
        self.count = count
        self.splitBy = splitBy
        self.keys = keys
    }

    /// "volume 2/3 (acquisition number 2, b-value 5)" or nil for a single volume.
    var label: String? {
        guard count > 1 else { return nil }
        var facts: [String] = []
        if let v = keys.temporalPosition { facts.append("temporal position \(v)") }
        if let v = keys.acquisitionNumber { facts.append("acquisition \(v)") }
        if let v = keys.bValue { facts.append("b=\(format(v))") }
        if let v = keys.echoNumber { facts.append("echo \(v)") }
        if let v = keys.triggerTime { facts.append("trigger \(format(v)) ms") }
        return "volume \(index + 1)/\(count)" + (facts.isEmpty ? "" : " (" + facts.joined(separator: ", ") + ")")
    }
}

/// Splits the slices of one series (one orientation and size) into volumes when their positions repeat.
///
/// The keys, in this order: temporal position, acquisition number, b-value, gradient direction, echo number,
/// trigger time, and for Siemens mosaics the file itself (each mosaic file is a whole volume). Keys are taken in
/// order until no volume repeats a position; a key is skipped when it separates no repeat (every slice shares it)
/// or would give more volumes than any position has slices (a key that numbers every slice). The volumes are then
/// sorted by the keys taken, in the same order (absent values first). Slices that still share a position (no key
/// tells them apart) are true duplicates: the stacking keeps one and warns.
enum DicomVolumeSplit {
    struct Key: Sendable {
        var name: String
        /// Sort value, and identity (two slices are in the same volume when every taken key's identity agrees).
        var value: @Sendable (DicomSlice) -> (sort: [Double], identity: String)
    }

    static let keys: [Key] = [
        number("temporal position") { $0.volumeKeys.temporalPosition.map(Double.init) },
        number("acquisition number") { $0.volumeKeys.acquisitionNumber.map(Double.init) },
        number("b-value") { $0.volumeKeys.bValue },
        Key(name: "gradient direction") { slice in
            let v = slice.volumeKeys.gradientDirection ?? []
            return (v, v.map { String(format: "%.4f", $0) }.joined(separator: ","))
        },
        number("echo number") { $0.volumeKeys.echoNumber.map(Double.init) },
        number("trigger time") { $0.volumeKeys.triggerTime },
        Key(name: "mosaic file") { slice in
            slice.mosaicTile == nil ? ([], "") : ([Double(slice.instanceNumber ?? 0)], slice.path)
        },
    ]

    private static func number(_ name: String, _ get: @escaping @Sendable (DicomSlice) -> Double?) -> Key {
        Key(name: name) { slice in get(slice).map { ([$0], String($0)) } ?? ([], "-") }
    }

    /// The volumes (indices into `slices`, each in input order) in volume order, and the key names used.
    static func split(_ slices: [DicomSlice], normal: [Double]?) -> (volumes: [[Int]], splitBy: [String]) {
        let all = Array(slices.indices)
        guard let normal else { return ([all], []) }
        let repeats = mostAtOnePosition(all, slices, normal)
        guard repeats > 1 else { return ([all], []) }
        var taken: [Key] = []
        var groups: [[Int]] = [all]
        for key in keys {
            let candidate = taken + [key]
            let split = Dictionary(grouping: all) { index in candidate.map { $0.value(slices[index]).identity } }.map(\.value)
            // A key must separate repeats without cutting a volume apart: a key that differs on every slice (a CT
            // numbering each slice's acquisition) would give more volumes than any position has slices.
            let remaining = split.map { mostAtOnePosition($0, slices, normal) }.max() ?? 1
            guard split.count <= repeats, remaining < (groups.map { mostAtOnePosition($0, slices, normal) }.max() ?? 1)
            else { continue }
            taken = candidate
            groups = split
            if remaining == 1 { break }
        }
        guard !taken.isEmpty else { return ([all], []) }
        let sorted = groups.map { $0.sorted() }.sorted { a, b in
            let ka = taken.flatMap { [Double($0.value(slices[a[0]]).sort.count)] + $0.value(slices[a[0]]).sort }
            let kb = taken.flatMap { [Double($0.value(slices[b[0]]).sort.count)] + $0.value(slices[b[0]]).sort }
            return ka.lexicographicallyPrecedes(kb) || (ka == kb && a[0] < b[0])
        }
        return (sorted, taken.map(\.name))
    }

    /// The values every slice of `indices` shares.
    static func sharedKeys(_ indices: [Int], _ slices: [DicomSlice]) -> DicomVolumeKeys {
        func shared<T: Equatable>(_ get: (DicomVolumeKeys) -> T?) -> T? {
            let first = get(slices[indices[0]].volumeKeys)
            return indices.allSatisfy { get(slices[$0].volumeKeys) == first } ? first : nil
        }
        var keys = DicomVolumeKeys()
        keys.temporalPosition = shared { $0.temporalPosition }
        keys.acquisitionNumber = shared { $0.acquisitionNumber }
        keys.bValue = shared { $0.bValue }
        keys.gradientDirection = shared { $0.gradientDirection }
        keys.echoNumber = shared { $0.echoNumber }
        keys.triggerTime = shared { $0.triggerTime }
        return keys
    }

    /// The most slices of `indices` that lie at one place along the normal (within the duplicate tolerance).
    private static func mostAtOnePosition(_ indices: [Int], _ slices: [DicomSlice], _ normal: [Double]) -> Int {
        let distances = indices.compactMap { slices[$0].position.map { DicomGeometry.dot($0, normal) } }.sorted()
        var most = distances.isEmpty ? 0 : 1, run = 1
        for (next, previous) in zip(distances.dropFirst(), distances) {
            run = next - previous < DicomGeometry.duplicateTolerance ? run + 1 : 1
            most = max(most, run)
        }
        return most
    }
}
