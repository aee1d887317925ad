import Foundation

/// A value produced by the restricted unpickler. Dicts and lists are references because pickle mutates them after
/// memoising them (SETITEMS/APPENDS act on the memoised object).
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes(Data)
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// One of the allowed callables (see `TorchPickle.allowedGlobals`).
    case global(String)
    /// A storage reference from a persistent id: ('storage', <type>, key, location, numel).
    case storage(TorchStorageRef)
    case tensor(TorchTensorRef)

    var typeName: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global(let name): name
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}

final class PickleList { var items: [PickleValue] = [] }
final class PickleDict { var items: [(key: PickleValue, value: PickleValue)] = [] }

struct TorchStorageRef {
    let dtype: StoredDType
    let key: String
    let count: Int
}

struct TorchTensorRef {
    let storage: TorchStorageRef
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}

/// A pickle interpreter that understands exactly what `torch.save(state_dict)` writes and nothing else.
///
/// It never imports or calls anything: GLOBAL may only name the callables in `allowedGlobals`, REDUCE only builds
/// an OrderedDict or a tensor record, and any other opcode or global is an error naming it.
struct TorchPickle {
    static let storageTypes: [String: StoredDType] = [
        "torch.FloatStorage": .float32, "torch.HalfStorage": .float16,
        "torch.BFloat16Storage": .bfloat16, "torch.DoubleStorage": .float64,
    ]
    static let allowedGlobals: Set<String> = Set(storageTypes.keys).union([
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
    ])

    let file: String

    /// Runs the program in `data` and returns the value left by STOP.
    func load(_ data: Data) throws -> PickleValue {
        try data.withUnsafeBytes { try run(Reader(bytes: $0, file: file)) }
    }

    private func fail(_ why: String) -> UniverSegError {
        UniverSegError(file: file, "unsupported checkpoint pickle: \(why)")
    }

    // A MARK on the stack; kept out of PickleValue so no value can ever be a mark.
    private enum Slot { case mark, value(PickleValue) }

    private func run(_ r: Reader) throws -> PickleValue {
        var r = r
        var stack: [Slot] = []
        var memo: [Int: PickleValue] = [:]

        func pop() throws -> PickleValue {
            guard case .value(let v)? = stack.popLast() else { throw fail("stack underflow at byte \(r.position)") }
            return v
        }
        func top() throws -> PickleValue {
            guard case .value(let v)? = stack.last else { throw fail("stack underflow at byte \(r.position)") }
            return v
        }
        func popToMark() throws -> [PickleValue] {
            var items: [PickleValue] = []
            while let slot = stack.popLast() {
                switch slot {
                case .mark: return items.reversed()
                case .value(let v): items.append(v)
                }
            }
            throw fail("MARK missing at byte \(r.position)")
        }
        func push(_ v: PickleValue) { stack.append(.value(v)) }
        func setItems(_ dictValue: PickleValue, _ flat: [PickleValue]) throws {
            guard case .dict(let dict) = dictValue, flat.count % 2 == 0 else { throw fail("SETITEM on a non-dict") }
            for i in stride(from: 0, to: flat.count, by: 2) { dict.items.append((flat[i], flat[i + 1])) }
        }

        while true {
            let at = r.position
            let op = try r.byte()
            switch op {
            case 0x80: _ = try r.byte()                                   // PROTO
            case 0x95: _ = try r.bytes(8)                                 // FRAME (protocol 4)
            case 0x2E:                                                    // STOP
                return try pop()
            case 0x28: stack.append(.mark)                                // MARK
            case 0x30: _ = try pop()                                      // POP
            case 0x31: _ = try popToMark()                                // POP_MARK
            case 0x32: push(try top())                                    // DUP
            case 0x4E: push(.none)                                        // NONE
            case 0x88: push(.bool(true))                                  // NEWTRUE
            case 0x89: push(.bool(false))                                 // NEWFALSE
            case 0x4B: push(.int(Int(try r.byte())))                      // BININT1
            case 0x4D: push(.int(Int(try r.uint(2))))                     // BININT2
            case 0x4A: push(.int(Int(Int32(truncatingIfNeeded: try r.uint(4)))))  // BININT
            case 0x8A:                                                    // LONG1
                let n = Int(try r.byte())
                guard n <= 8 else { throw fail("integer of \(n) bytes at byte \(at)") }
                let raw = try r.bytes(n)
                var v: UInt64 = 0
                for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
                if n > 0, n < 8, raw[raw.count - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) }  // sign-extend
                push(.int(Int(Int64(bitPattern: v))))
            case 0x47:                                                    // BINFLOAT (big-endian)
                push(.float(Double(bitPattern: UInt64(bigEndianBytes: try r.bytes(8)))))
            case 0x58: push(.string(try r.utf8(Int(try r.uint(4)))))      // BINUNICODE
            case 0x8C: push(.string(try r.utf8(Int(try r.byte()))))       // SHORT_BINUNICODE
            case 0x8D: push(.string(try r.utf8(try r.length(8))))         // BINUNICODE8
            case 0x55: push(.string(try r.utf8(Int(try r.byte()))))       // SHORT_BINSTRING
            case 0x54: push(.string(try r.utf8(Int(try r.uint(4)))))      // BINSTRING
            case 0x43: push(.bytes(Data(try r.bytes(Int(try r.byte())))))  // SHORT_BINBYTES
            case 0x42: push(.bytes(Data(try r.bytes(Int(try r.uint(4))))))  // BINBYTES
            case 0x29: push(.tuple([]))                                   // EMPTY_TUPLE
            case 0x74: push(.tuple(try popToMark()))                      // TUPLE
            case 0x85: push(.tuple([try pop()]))                          // TUPLE1
            case 0x86:                                                    // TUPLE2
                let b = try pop(), a = try pop()
                push(.tuple([a, b]))
            case 0x87:                                                    // TUPLE3
                let c = try pop(), b = try pop(), a = try pop()
                push(.tuple([a, b, c]))
            case 0x5D: push(.list(PickleList()))                          // EMPTY_LIST
            case 0x6C:                                                    // LIST
                let list = PickleList()
                list.items = try popToMark()
                push(.list(list))
            case 0x61:                                                    // APPEND
                let v = try pop()
                guard case .list(let list) = try top() else { throw fail("APPEND on a non-list at byte \(at)") }
                list.items.append(v)
            case 0x65:                                                    // APPENDS
                let items = try popToMark()
                guard case .list(let list) = try top() else { throw fail("APPENDS on a non-list at byte \(at)") }
                list.items += items
            case 0x7D: push(.dict(PickleDict()))                          // EMPTY_DICT
            case 0x64:                                                    // DICT
                let dict = PickleValue.dict(PickleDict())
                try setItems(dict, try popToMark())
                push(dict)
            case 0x73:                                                    // SETITEM
                let v = try pop(), k = try pop()
                try setItems(try top(), [k, v])
            case 0x75:                                                    // SETITEMS
                let flat = try popToMark()
                try setItems(try top(), flat)
            case 0x71: memo[Int(try r.byte())] = try top()                // BINPUT
            case 0x72: memo[Int(try r.uint(4))] = try top()               // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()                       // MEMOIZE
            case 0x68, 0x6A:                                              // BINGET, LONG_BINGET
                let key = op == 0x68 ? Int(try r.byte()) : Int(try r.uint(4))
                guard let v = memo[key] else { throw fail("memo key \(key) unset at byte \(at)") }
                push(v)
            case 0x63:                                                    // GLOBAL "module\nname\n"
                let module = try r.line(), name = try r.line()
                push(try global(module, name))
            case 0x93:                                                    // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw fail("STACK_GLOBAL without strings at byte \(at)")
                }
                push(try global(module, name))
            case 0x51:                                                    // BINPERSID
                push(try persistent(try pop()))
            case 0x52:                                                    // REDUCE
                let args = try pop(), callable = try pop()
                push(try reduce(callable, args))
            case 0x62:                                                    // BUILD
                let state = try pop()
                // An OrderedDict's instance state is its `_metadata` (module versions): not needed, ignored.
                guard case .dict = try top() else { throw fail("BUILD on \(try top().typeName) at byte \(at)") }
                _ = state
            default:
                throw fail(String(format: "opcode 0x%02X at byte %d is not allowed", op, at))
            }
        }
    }

    private func global(_ module: String, _ name: String) throws -> PickleValue {
        let full = "\(module).\(name)"
        guard Self.allowedGlobals.contains(full) else {
            throw fail("refusing to load global '\(full)' (only tensors in (Ordered)dicts are accepted; nothing is executed)")
        }
        return .global(full)
    }

    private func persistent(_ pid: PickleValue) throws -> PickleValue {
        guard case .tuple(let t) = pid, t.count == 5, case .string("storage") = t[0], case .global(let type) = t[1],
              case .string(let key) = t[2], case .int(let count) = t[4], count >= 0 else {
            throw fail("unexpected persistent id")
        }
        guard let dtype = Self.storageTypes[type] else { throw fail("storage type \(type) is not a float type") }
        return .storage(TorchStorageRef(dtype: dtype, key: key, count: count))
    }

    private func reduce(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case .global(let name) = callable, case .tuple(let a) = args else {
            throw fail("REDUCE of \(callable.typeName)")
        }
        switch name {
        case "collections.OrderedDict":
            guard a.isEmpty else { throw fail("OrderedDict with arguments") }
            return .dict(PickleDict())
        case "torch._utils._rebuild_tensor_v2":
            guard a.count >= 4, case .storage(let storage) = a[0], case .int(let offset) = a[1],
                  case .tuple(let sizeValues) = a[2], case .tuple(let strideValues) = a[3] else {
                throw fail("malformed _rebuild_tensor_v2 arguments")
            }
            let shape = try sizeValues.map { v -> Int in
                guard case .int(let i) = v, i >= 0 else { throw fail("bad tensor size") }
                return i
            }
            let strides = try strideValues.map { v -> Int in
                guard case .int(let i) = v, i >= 0 else { throw fail("bad tensor stride") }
                return i
            }
            guard shape.count == strides.count, offset >= 0 else { throw fail("tensor size and stride disagree") }
            return .tensor(TorchTensorRef(storage: storage, offset: offset, shape: shape, strides: strides))
        case "torch._utils._rebuild_parameter":
            guard let data = a.first, case .tensor = data else { throw fail("malformed _rebuild_parameter") }
            return data
        default:
            throw fail("calling \(name) is not allowed")
        }
    }
}

/// Bounds-checked little cursor over the pickle bytes.
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var position = 0

    private func truncated() -> UniverSegError {
        UniverSegError(file: file, "unsupported checkpoint pickle: truncated at byte \(position)")
    }

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw truncated() }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func bytes(_ n: Int) throws -> [UInt8] {
        guard n >= 0, n <= bytes.count - position else { throw truncated() }
        defer { position += n }
        return Array(bytes[position ..< position + n])
    }

    mutating func uint(_ n: Int) throws -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try bytes(n).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    mutating func length(_ n: Int) throws -> Int {
        let v = try uint(n)
        guard v <= UInt64(bytes.count) else { throw truncated() }
        return Int(v)
    }

    mutating func utf8(_ n: Int) throws -> String { String(decoding: try bytes(n), as: UTF8.self) }

    mutating func line() throws -> String {
        var out: [UInt8] = []
        while true {
            let b = try byte()
            if b == 0x0A { return String(decoding: out, as: UTF8.self) }
            out.append(b)
            guard out.count < 256 else { throw truncated() }
        }
    }
}

private extension UInt64 {
    init(bigEndianBytes b: [UInt8]) {
        self = b.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
