import FuzzSupport
import Foundation
@testable import UniverSeg

/// The .pt reader: zip archive, restricted unpickler, storage gathering (as `WeightsFile` calls it).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchCheckpoint(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    _ = try? TorchCheckpoint.read(Data(bytes: start, count: count), file: "fuzz.pt")
    return 0
}
