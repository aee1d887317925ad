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

    /// The deepest nesting of tuples, lists and dicts accepted. A state_dict nests 4 deep; the limit keeps a hostile
    /// pickle from building a chain so deep that releasing it (or walking it) overflows the stack.
    static let maximumNesting = 32

    // A MARK on the stack; kept out of PickleValue so no value can ever be a mark. A value carries its nesting
    // depth (0 for scalars); a list's or dict's current depth is kept by identity in `nesting`, since both grow.
    private enum Slot { case mark, value(PickleValue, depth: Int) }

    private func run(_ r: Reader) throws -> PickleValue {
        var r = r
        var stack: [Slot] = []
        var memo: [Int: (PickleValue, depth: Int)] = [:]
        var nesting = ContainerNesting(limit: Self.maximumNesting)

        func popEntry() throws -> (PickleValue, depth: Int) {
            guard case .value(let v, let depth)? = stack.popLast() else { throw fail("stack underflow at byte \(r.position)") }
            return (v, nesting.depth(of: v, recorded: depth))
        }
        func pop() throws -> PickleValue { try popEntry().0 }
        func topEntry() throws -> (PickleValue, depth: Int) {
            guard case .value(let v, let depth)? = stack.last else { throw fail("stack underflow at byte \(r.position)") }
            return (v, nesting.depth(of: v, recorded: depth))
        }
        func top() throws -> PickleValue { try topEntry().0 }
        func popToMark() throws -> [(PickleValue, depth: Int)] {
            var items: [(PickleValue, depth: Int)] = []
            while let slot = stack.popLast() {
                switch slot {
                case .mark: return items.reversed()
                case .value(let v, let depth): items.append((v, nesting.depth(of: v, recorded: depth)))
                }
            }
            throw fail("MARK missing at byte \(r.position)")
        }
        func push(_ v: PickleValue, depth: Int = 0) { stack.append(.value(v, depth: depth)) }
        /// A tuple of `items` (their nesting checked, lists and dicts among them sealed).
        func pushTuple(_ items: [(PickleValue, depth: Int)]) throws {
            push(.tuple(items.map(\.0)), depth: try nesting.nest(items, into: nil, at: r.position, fail: fail))
        }
        func setItems(_ dictValue: PickleValue, _ flat: [(PickleValue, depth: Int)]) throws {
            guard case .dict(let dict) = dictValue, flat.count % 2 == 0 else { throw fail("SETITEM on a non-dict") }
            _ = try nesting.nest(flat, into: dict, at: r.position, fail: fail)
            for i in stride(from: 0, to: flat.count, by: 2) { dict.items.append((flat[i].0, flat[i + 1].0)) }
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
            case 0x32: let (v, depth) = try topEntry(); push(v, depth: depth)  // DUP
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
            case 0x29: push(.tuple([]), depth: 1)                         // EMPTY_TUPLE
            case 0x74: try pushTuple(try popToMark())                     // TUPLE
            case 0x85: try pushTuple([try popEntry()])                    // TUPLE1
            case 0x86:                                                    // TUPLE2
                let b = try popEntry(), a = try popEntry()
                try pushTuple([a, b])
            case 0x87:                                                    // TUPLE3
                let c = try popEntry(), b = try popEntry(), a = try popEntry()
                try pushTuple([a, b, c])
            case 0x5D: push(.list(nesting.created(PickleList())))         // EMPTY_LIST
            case 0x6C:                                                    // LIST
                let list = nesting.created(PickleList())
                let items = try popToMark()
                _ = try nesting.nest(items, into: list, at: at, fail: fail)
                list.items = items.map(\.0)
                push(.list(list))
            case 0x61:                                                    // APPEND
                let v = try popEntry()
                guard case .list(let list) = try top() else { throw fail("APPEND on a non-list at byte \(at)") }
                _ = try nesting.nest([v], into: list, at: at, fail: fail)
                list.items.append(v.0)
            case 0x65:                                                    // APPENDS
                let items = try popToMark()
                guard case .list(let list) = try top() else { throw fail("APPENDS on a non-list at byte \(at)") }
                _ = try nesting.nest(items, into: list, at: at, fail: fail)
                list.items += items.map(\.0)
            case 0x7D: push(.dict(nesting.created(PickleDict())))         // EMPTY_DICT
            case 0x64:                                                    // DICT
                let dict = PickleValue.dict(nesting.created(PickleDict()))
                try setItems(dict, try popToMark())
                push(dict)
            case 0x73:                                                    // SETITEM
                let v = try popEntry(), k = try popEntry()
                try setItems(try top(), [k, v])
            case 0x75:                                                    // SETITEMS
                let flat = try popToMark()
                try setItems(try top(), flat)
            case 0x71: memo[Int(try r.byte())] = try topEntry()           // BINPUT
            case 0x72: memo[Int(try r.uint(4))] = try topEntry()          // LONG_BINPUT
            case 0x94: memo[memo.count] = try topEntry()                  // MEMOIZE
            case 0x68, 0x6A:                                              // BINGET, LONG_BINGET
                let key = op == 0x68 ? Int(try r.byte()) : Int(try r.uint(4))
                guard let (v, depth) = memo[key] else { throw fail("memo key \(key) unset at byte \(at)") }
                push(v, depth: depth)
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
                let result = try reduce(callable, args)
                if case .dict(let dict) = result { _ = nesting.created(dict) }
                push(result)
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

/// The nesting depth of the lists and dicts an unpickling builds, by identity. A list or dict is sealed once it
/// is placed inside another container: changing it afterwards could deepen (or close a cycle through) containers
/// whose depth was already counted, so that is refused (torch.save never does it: each container is complete
/// before it is used).
private struct ContainerNesting {
    let limit: Int
    private var depths: [ObjectIdentifier: Int] = [:]
    private var sealed: Set<ObjectIdentifier> = []
    /// Keeps every container alive while unpickling, so that no identifier is reused.
    private var all: [AnyObject] = []

    init(limit: Int) { self.limit = limit }

    mutating func created<T: AnyObject>(_ container: T) -> T {
        depths[ObjectIdentifier(container)] = 1
        all.append(container)
        return container
    }

    func depth(of value: PickleValue, recorded: Int) -> Int {
        switch value {
        case .list(let list): depths[ObjectIdentifier(list)] ?? 1
        case .dict(let dict): depths[ObjectIdentifier(dict)] ?? 1
        default: recorded
        }
    }

    /// Checks that `children` may go into `container` (nil: a new tuple), seals the lists and dicts among them, and
    /// returns the container's depth afterwards.
    mutating func nest(_ children: [(PickleValue, depth: Int)], into container: AnyObject?, at position: Int,
                       fail: (String) -> UniverSegError) throws -> Int {
        var depth = container.map { depths[ObjectIdentifier($0)] ?? 1 } ?? 1
        if let container, sealed.contains(ObjectIdentifier(container)) {
            throw fail("a list or dict is changed after being placed in another, at byte \(position)")
        }
        for (child, childDepth) in children {
            depth = max(depth, childDepth + 1)
            let object: AnyObject? = switch child {
            case .list(let list): list
            case .dict(let dict): dict
            default: nil
            }
            guard let object else { continue }
            if let container, object === container { throw fail("a list or dict placed inside itself, at byte \(position)") }
            sealed.insert(ObjectIdentifier(object))
        }
        guard depth <= limit else { throw fail("containers nested more than \(limit) deep, at byte \(position)") }
        if let container { depths[ObjectIdentifier(container)] = depth }
        return depth
    }
}
