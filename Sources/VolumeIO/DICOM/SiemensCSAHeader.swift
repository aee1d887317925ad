import Foundation

/// The Siemens CSA header: a private binary block, (0029,xx10) "CSA Image Header Info" in the "SIEMENS CSA HEADER"
/// private block, holding named elements (NumberOfImagesInMosaic, SliceNormalVector, B_value, ...) that the
/// public attributes lack.
///
/// Layout (little endian). CSA2 starts with "SV10" and 4 unused bytes; CSA1 has no prefix. Then: number of
/// elements (UInt32), a check value (UInt32, 77). Each element: name (64 bytes, NUL-terminated), VM (Int32),
/// VR (4 bytes), SyngoDT, item count, check (3 x Int32); then each item: 4 x Int32, of which the second (CSA2) is
/// the value length, or the first minus the item count of element 1 (CSA1); then the value as text, padded to 4
/// bytes. Numbers are stored as text ("64", "0.99984295912269").
struct SiemensCSAHeader: Equatable {
    /// Text items of each element, by name; empty items are dropped.
    var elements: [String: [String]]

    /// Elements or items beyond this are corrupt data, not a header.
    static let maximumCount = 1000

    enum ParseError: Error, Equatable {
        case truncated(at: Int)
        case implausible(String)
    }

    init(elements: [String: [String]]) { self.elements = elements }

    /// Parses the raw value bytes of the element.
    init(_ bytes: [UInt8]) throws(ParseError) {
        var reader = LittleEndianReader(bytes: bytes)
        let isCSA2 = bytes.starts(with: Array("SV10".utf8))
        if isCSA2 { try reader.skip(8) }
        let count = Int(try reader.uint32())
        _ = try reader.uint32()
        guard count > 0, count <= Self.maximumCount else { throw .implausible("\(count) elements") }
        var elements: [String: [String]] = [:]
        var firstItemCount = 0   // CSA1 lengths are offset by element 1's item count
        for index in 0..<count {
            let name = try reader.text(64)
            let vm = Int(try reader.int32())
            try reader.skip(4 + 4)   // VR, SyngoDT
            let items = Int(try reader.int32())
            try reader.skip(4)
            guard items >= 0, items <= Self.maximumCount else { throw .implausible("\(items) items in \(name)") }
            if index == 1 { firstItemCount = items }
            var values: [String] = []
            for _ in 0..<items {
                let header = [try reader.int32(), try reader.int32(), try reader.int32(), try reader.int32()]
                let length = Int(isCSA2 ? header[1] : header[0] - Int32(firstItemCount))
                guard length >= 0, reader.remaining >= length else {
                    if isCSA2 { throw .truncated(at: reader.offset) }
                    break   // CSA1 writers leave impossible lengths after the last real item
                }
                let value = try reader.text(length).trimmingCharacters(in: .whitespaces)
                try reader.skip((4 - length % 4) % 4, clamped: true)
                if !value.isEmpty, vm == 0 || values.count < vm { values.append(value) }
            }
            elements[name] = values
        }
        self.elements = elements
    }

    /// The first item of `name` as a number.
    func number(_ name: String) -> Double? { elements[name]?.first.flatMap { Double($0) } }

    /// The items of `name` as numbers, when there are exactly `count`.
    func vector(_ name: String, count: Int) -> [Double]? {
        guard let items = elements[name], items.count == count else { return nil }
        let values = items.compactMap { Double($0) }
        return values.count == count ? values : nil
    }
}

/// Sequential little-endian reads from a byte array that throw at the end instead of trapping.
private struct LittleEndianReader {
    let bytes: [UInt8]
    var offset = 0
    var remaining: Int { bytes.count - offset }

    mutating func skip(_ count: Int, clamped: Bool = false) throws(SiemensCSAHeader.ParseError) {
        if remaining < count {
            if clamped { offset = bytes.count; return }
            throw .truncated(at: offset)
        }
        offset += count
    }

    mutating func uint32() throws(SiemensCSAHeader.ParseError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(at: offset) }
        defer { offset += 4 }
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }

    mutating func int32() throws(SiemensCSAHeader.ParseError) -> Int32 { Int32(bitPattern: try uint32()) }

    /// `count` bytes as text up to the first NUL.
    mutating func text(_ count: Int) throws(SiemensCSAHeader.ParseError) -> String {
        guard remaining >= count else { throw .truncated(at: offset) }
        defer { offset += count }
        return String(decoding: bytes[offset ..< offset + count].prefix { $0 != 0 }, as: UTF8.self)
    }
}
