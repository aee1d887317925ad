import FuzzSupport
import Foundation
@testable import UniverSeg

/// The safetensors reader (header JSON, offsets, dtype widening), then the tensor invariants `WeightsFile` checks.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let tensors = try? Safetensors.read(Data(bytes: start, count: count), file: "fuzz.safetensors") else { return 0 }
    for (name, tensor) in tensors { _ = try? tensor.checkInvariants(name: name, file: "fuzz.safetensors") }
    return 0
}
