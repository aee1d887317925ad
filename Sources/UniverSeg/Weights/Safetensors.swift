import Foundation

/// Reads a safetensors file: an 8-byte little-endian header length, a JSON header, then the raw tensor bytes.
/// F32, F16, BF16 (and F64) tensors are widened to Float32; other dtypes are refused, naming the tensor.
enum Safetensors {
    static let maxHeaderBytes = 100 << 20

    static func read(_ data: Data, file: String) throws -> [String: WeightTensor] {
        func fail(_ why: String) -> UniverSegError { UniverSegError(file: file, "not a valid safetensors file: \(why)") }
        guard data.count >= 8 else { throw fail("shorter than its 8-byte header length") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(min(maxHeaderBytes, data.count - 8)) else {
            throw fail("header length \(headerLength) exceeds the file size")
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = data.subdata(in: data.startIndex + 8 ..< data.startIndex + dataStart)
        guard let header = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        var tensors: [String: WeightTensor] = [:]
        try data.withUnsafeBytes { all in
            let body = UnsafeRawBufferPointer(rebasing: all[dataStart...])
            for (name, value) in header where name != "__metadata__" {
                guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                      let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                    throw fail("entry '\(name)' lacks dtype, shape or data_offsets")
                }
                guard let dtype = StoredDType(rawValue: dtypeName) else {
                    throw UniverSegError(file: file, "tensor '\(name)' has dtype \(dtypeName); only F32, F16 and BF16 weights are supported")
                }
                guard shape.allSatisfy({ $0 >= 0 && $0 <= 1 << 30 }) else { throw fail("tensor '\(name)' has shape \(shape.shapeText)") }
                let (count, overflow) = shape.reduce((1, false)) { acc, n in
                    let (p, o) = acc.0.multipliedReportingOverflow(by: n)
                    return (p, acc.1 || o)
                }
                guard !overflow, offsets[0] >= 0, offsets[1] <= body.count, offsets[1] - offsets[0] == count * dtype.byteCount else {
                    throw fail("tensor '\(name)' data_offsets \(offsets.shapeText) do not fit shape \(shape.shapeText) "
                        + "in a data section of \(body.count) bytes")
                }
                let bytes = UnsafeRawBufferPointer(rebasing: body[offsets[0] ..< offsets[1]])
                tensors[name] = WeightTensor(shape: shape, values: (0 ..< count).map { dtype.load(bytes, $0) })
            }
        }
        return tensors
    }
}
