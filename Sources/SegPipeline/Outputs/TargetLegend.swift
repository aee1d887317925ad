import VolumeIO

/// How viewers name, code and colour each target, in one place for the SEG, the colour tables, the QC picture and
/// the report: what the definition gives, else the defaults documented in docs/pipeline-schema.md.
public struct TargetLegend: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var value: Int32
        public var color: DisplayColor
        /// SEG Segmented Property Type and Category.
        public var code: CodedConcept
        public var category: CodedConcept
    }

    /// Default colours, one per target in definition order, repeating after 6: red, green, blue, yellow, magenta,
    /// cyan (bright enough to outline a grey image).
    public static let palette = [DisplayColor(255, 40, 40), DisplayColor(40, 220, 40), DisplayColor(60, 140, 255),
                                 DisplayColor(255, 220, 0), DisplayColor(255, 60, 255), DisplayColor(0, 230, 230)]

    public var entries: [Entry]

    public init(targets: [TargetSpec]) {
        entries = targets.enumerated().map { n, target in
            Entry(name: target.name, value: target.value, color: target.color ?? Self.palette[n % Self.palette.count],
                  code: target.code ?? .tissue, category: target.category ?? .anatomicalStructure)
        }
    }

    public var colors: [DisplayColor] { entries.map(\.color) }

    /// One SEG segment per target, in target order.
    public var segments: [DicomSegSegment] {
        entries.map { DicomSegSegment(value: $0.value, label: $0.name, category: $0.category, type: $0.code, color: $0.color) }
    }

    /// A 3D Slicer colour table (`.ctbl`): `value name R G B A` per line, background 0 first, fully opaque labels.
    public var slicerColorTable: String {
        var lines = ["# Color table file written by \(ToolInfo.version)", "# \(entries.count + 1) values",
                     "0 background 0 0 0 0"]
        for e in entries.sorted(by: { $0.value < $1.value }) {
            lines.append("\(e.value) \(e.name) \(e.color.red) \(e.color.green) \(e.color.blue) 255")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// An ITK-SNAP label description file (Segmentation > Import Label Descriptions), in the layout ITK-SNAP writes:
    /// `IDX R G B A VIS MSH "LABEL"`, alpha from 0 to 1, label 0 the clear label.
    public var itksnapLabelDescriptions: String {
        func row(_ value: Int32, _ c: DisplayColor, _ alpha: Int, _ visible: Int, _ label: String) -> String {
            func pad(_ x: Int, _ width: Int) -> String { String(repeating: " ", count: max(0, width - String(x).count)) + String(x) }
            return "\(pad(Int(value), 5)) \(pad(Int(c.red), 5)) \(pad(Int(c.green), 4)) \(pad(Int(c.blue), 4)) "
                + "\(pad(alpha, 8)) \(pad(visible, 2)) \(pad(visible, 2))    \"\(label)\""
        }
        let header = """
        ################################################
        # ITK-SnAP Label Description File
        # File format:
        # IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL
        # Fields:
        #    IDX:   Zero-based index
        #    -R-:   Red color component (0..255)
        #    -G-:   Green color component (0..255)
        #    -B-:   Blue color component (0..255)
        #    -A-:   Label transparency (0.00 .. 1.00)
        #    VIS:   Label visibility (0 or 1)
        #    MSH:   Label mesh visibility (0 or 1)
        #  LABEL:   Label description
        ################################################
        """
        let rows = [row(0, DisplayColor(0, 0, 0), 0, 0, "Clear Label")]
            + entries.sorted(by: { $0.value < $1.value }).map { row($0.value, $0.color, 1, 1, $0.name) }
        return ([header] + rows).joined(separator: "\n") + "\n"
    }
}
