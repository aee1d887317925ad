import Foundation

/// Reads a `torch.save` zip checkpoint: `<name>/data.pkl` (a pickled state_dict) plus `<name>/data/<key>` storages.
///
/// Accepts a bare state_dict, or a checkpoint dict wrapping one under "state_dict" or "model". A "module." prefix
/// (DataParallel) is stripped. Nothing in the pickle is executed (see `TorchPickle`).
enum TorchCheckpoint {
    static func read(_ data: Data, file: String) throws -> [String: WeightTensor] {
        let zip = try ZipArchive(data: data, file: file)
        let pickles = zip.entries.keys.filter { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }
        guard pickles.count == 1, let pickleName = pickles.first else {
            throw UniverSegError(file: file, pickles.isEmpty
                ? "zip archive has no data.pkl: not a PyTorch checkpoint"
                : "zip archive has \(pickles.count) data.pkl entries: not a single PyTorch checkpoint")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if zip.entries[prefix + "byteorder"] != nil {
            let order = String(decoding: try zip.contents(of: prefix + "byteorder"), as: UTF8.self)
            guard order == "little" else { throw UniverSegError(file: file, "checkpoint byte order is '\(order)', only little-endian is supported") }
        }
        let root = try TorchPickle(file: file).load(try zip.contents(of: pickleName))
        let entries = try stateDict(root, file: file)

        var storages: [String: Data] = [:]
        var tensors: [String: WeightTensor] = [:]
        for (name, ref) in entries {
            let key = ref.storage.key
            if storages[key] == nil { storages[key] = try zip.contents(of: prefix + "data/" + key) }
            tensors[name] = try materialize(ref, name: name, storage: storages[key]!, file: file)
        }
        return tensors
    }

    /// Finds the name -> tensor mapping inside the unpickled object.
    private static func stateDict(_ root: PickleValue, file: String) throws -> [(String, TorchTensorRef)] {
        guard case .dict(let dict) = root else {
            throw UniverSegError(file: file, "checkpoint holds a \(root.typeName), expected a state_dict")
        }
        let hasTensors = dict.items.contains { if case .tensor = $0.value { true } else { false } }
        if !hasTensors {
            for wrapper in ["state_dict", "model"] {
                if let inner = dict.items.first(where: { if case .string(wrapper) = $0.key { true } else { false } }) {
                    return try stateDict(inner.value, file: file)
                }
            }
            throw UniverSegError(file: file, "checkpoint dict holds no tensors and no 'state_dict' or 'model' entry")
        }
        var out: [(String, TorchTensorRef)] = []
        for (key, value) in dict.items {
            guard case .string(let name) = key else { throw UniverSegError(file: file, "state_dict key of type \(key.typeName)") }
            guard case .tensor(let ref) = value else {
                throw UniverSegError(file: file, "state_dict entry '\(name)' is a \(value.typeName), not a tensor")
            }
            out.append((name, ref))
        }
        if out.allSatisfy({ $0.0.hasPrefix("module.") }) { out = out.map { (String($0.0.dropFirst(7)), $0.1) } }
        return out
    }

    /// Gathers a (possibly strided, offset) view of a storage into a contiguous Float32 tensor.
    private static func materialize(_ ref: TorchTensorRef, name: String, storage: Data, file: String) throws -> WeightTensor {
        let dtype = ref.storage.dtype
        let (storageBytes, storageOverflow) = ref.storage.count.multipliedReportingOverflow(by: dtype.byteCount)
        guard !storageOverflow, storage.count >= storageBytes else {
            throw UniverSegError(file: file, "storage of '\(name)' is shorter than its declared \(ref.storage.count) elements")
        }
        let (count, overflow) = ref.shape.reduce((1, false)) { acc, n in
            let (p, o) = acc.0.multipliedReportingOverflow(by: n)
            return (p, acc.1 || o)
        }
        // A saved parameter never has more elements than its storage (only broadcast views, stride 0, would): this
        // bounds the memory a tensor takes by the bytes the file really holds.
        guard !overflow, count <= ref.storage.count else {
            throw UniverSegError(file: file, "tensor '\(name)' of shape \(ref.shape.shapeText) has more elements than its storage "
                + "of \(ref.storage.count)")
        }
        if count > 0 {
            // The furthest element this view touches must lie inside the storage (overflow-checked: strides are data).
            var last = ref.offset, lastOverflow = false
            for (size, stride) in zip(ref.shape, ref.strides) {
                let (step, o1) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, o2) = last.addingReportingOverflow(step)
                (last, lastOverflow) = (sum, lastOverflow || o1 || o2)
            }
            guard !lastOverflow, last < ref.storage.count else {
                throw UniverSegError(file: file, "tensor '\(name)' (shape \(ref.shape.shapeText), strides \(ref.strides.shapeText), "
                    + "offset \(ref.offset)) reaches past its storage of \(ref.storage.count) elements")
            }
        }
        var values = [Float](repeating: 0, count: count)
        storage.withUnsafeBytes { bytes in
            var index = [Int](repeating: 0, count: ref.shape.count)
            var source = ref.offset
            for i in 0 ..< count {
                values[i] = dtype.load(bytes, source)
                // Odometer increment over the logical index, tracking the storage position.
                var axis = ref.shape.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    source += ref.strides[axis]
                    if index[axis] < ref.shape[axis] { break }
                    source -= ref.strides[axis] * ref.shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
        return WeightTensor(shape: ref.shape, values: values)
    }
}
