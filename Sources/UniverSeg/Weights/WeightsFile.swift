import Foundation

/// Reads a weights file into name -> tensor, choosing the format from the content (zip magic: a PyTorch checkpoint;
/// otherwise safetensors), so a misnamed file still loads or fails with a reason.
enum WeightsFile {
    /// Every tensor of the file, each checked against `WeightTensor`'s invariant.
    static func read(_ url: URL) throws -> [String: WeightTensor] {
        let tensors = try readUnchecked(url)
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            try tensor.checkInvariants(name: name, file: url.path)
        }
        return tensors
    }

    private static func readUnchecked(_ url: URL) throws -> [String: WeightTensor] {
        let file = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw UniverSegError(file: file, "cannot read weights: \((error as NSError).localizedDescription)")
        }
        let magic = [UInt8](data.prefix(4))
        if magic == [0x50, 0x4B, 0x03, 0x04] || magic == [0x50, 0x4B, 0x05, 0x06] {
            return try TorchCheckpoint.read(data, file: file)
        }
        if data.count >= 9, data[data.startIndex + 8] == UInt8(ascii: "{") {
            return try Safetensors.read(data, file: file)
        }
        if magic == [0x80, 0x02, 0x8A, 0x0A] {  // a pickled LONG1 magic number: torch's pre-zip format
            throw UniverSegError(file: file, "legacy (pre-1.6, non-zip) PyTorch checkpoint: re-save it with a current torch.save")
        }
        throw UniverSegError(file: file, "unrecognised weights format (expected a PyTorch .pt zip or .safetensors)")
    }
}
