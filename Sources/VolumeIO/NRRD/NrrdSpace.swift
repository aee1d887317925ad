/// NRRD's named 3D spaces and how each maps to RAS+. Anatomical spaces convert exactly; the non-anatomical ones
/// (scanner-xyz, 3D-right-handed, 3D-left-handed) are read as LPS, as ITK (and so SimpleITK and nnU-Net) reads them.
public enum NrrdSpace: String, Sendable, Equatable, CaseIterable {
    case rightAnteriorSuperior = "right-anterior-superior"
    case leftAnteriorSuperior = "left-anterior-superior"
    case leftPosteriorSuperior = "left-posterior-superior"
    case scannerXYZ = "scanner-xyz"
    case rightHanded = "3D-right-handed"
    case leftHanded = "3D-left-handed"

    /// The space named by a `space:` value: the full name or its abbreviation, any case.
    init?(named text: String) {
        let lower = text.lowercased()
        let abbreviations: [String: NrrdSpace] = ["ras": .rightAnteriorSuperior, "las": .leftAnteriorSuperior,
                                                  "lps": .leftPosteriorSuperior]
        if let space = abbreviations[lower] ?? NrrdSpace.allCases.first(where: { $0.rawValue.lowercased() == lower }) {
            self = space
        } else {
            return nil
        }
    }

    /// Whether the axes have an anatomical meaning (else the file only says "some right-handed frame").
    public var isAnatomical: Bool { [.rightAnteriorSuperior, .leftAnteriorSuperior, .leftPosteriorSuperior].contains(self) }

    /// Signs that take a point in this space to RAS+ (and back: each is its own inverse).
    var toRAS: [Double] {
        switch self {
        case .rightAnteriorSuperior: [1, 1, 1]
        case .leftAnteriorSuperior: [-1, 1, 1]
        case .leftPosteriorSuperior, .scannerXYZ, .rightHanded, .leftHanded: [-1, -1, 1]
        }
    }

    /// Named time-series spaces (4D), which we refuse with this reason.
    static let timeSpaces = ["right-anterior-superior-time", "left-anterior-superior-time",
                             "left-posterior-superior-time", "scanner-xyz-time", "3d-right-handed-time",
                             "3d-left-handed-time", "rast", "last", "lpst"]
}
