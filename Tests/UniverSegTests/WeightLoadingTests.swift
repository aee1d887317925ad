import Foundation
import Testing
@testable import UniverSeg

@Suite struct WeightLoadingTests {
    /// .pt, .safetensors, a .pt of strided views into one shared storage, and a wrapped training checkpoint all
    /// give exactly the same tensors.
    @Test func formatsLoadIdentically() throws {
        let reference = try WeightsFile.read(Fixtures.url("w16.safetensors"))
        #expect(reference.count == 4 * 6 + 3 * 6 + 2)
        for name in ["w16.pt", "w16_views.pt", "w16_wrapped.pt"] {
            let other = try WeightsFile.read(Fixtures.url(name))
            #expect(other == reference, "\(name) differs from w16.safetensors")
        }
    }

    @Test func widthsAreReadFromTheWeights() throws {
        let mixed = try Fixtures.model("mixed.safetensors")
        #expect(mixed.encoderWidths == [8, 12, 16])
        #expect(mixed.decoderWidths == [10, 6])
        #expect(mixed.sizeMultiple == 4)
        let full = try Fixtures.model("nf64_f16.safetensors")
        #expect(full.encoderWidths == [64, 64, 64, 64])
        #expect(full.sizeMultiple == 8)
    }

    @Test func halfPrecisionIsWidenedExactly() throws {
        let half = try WeightsFile.read(Fixtures.url("w16_f16.safetensors"))
        let full = try WeightsFile.read(Fixtures.url("w16.safetensors"))
        let key = "enc_blocks.1.support.vmapped.conv.weight"
        let rounded = full[key]!.values.map { Float(Float16($0)) }
        #expect(half[key]!.values == rounded)
    }

    /// Half and bfloat16 storages in a .pt load as their exact Float32 widenings.
    @Test func reducedPrecisionCheckpoints() throws {
        let full = try WeightsFile.read(Fixtures.url("w16.safetensors"))
        #expect(try WeightsFile.read(Fixtures.url("w16_half.pt")) == WeightsFile.read(Fixtures.url("w16_f16.safetensors")))
        let bf16 = try WeightsFile.read(Fixtures.url("w16_bf16.pt"))
        let key = "dec_blocks.2.cross.cross_conv.weight"
        let error = zip(bf16[key]!.values, full[key]!.values).map { abs($0 - $1) / max(abs($1), 1e-30) }.max()!
        #expect(error <= 1.0 / 256, "bf16 relative rounding error \(error)")
    }

    @Test func bfloat16Loads() throws {
        let values: [Float] = [1.5, -2.25, 0.0078125]
        let bytes = values.flatMap { v in withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { Array($0) } }
        let url = try Fixtures.safetensors([("x", "BF16", [3], bytes)])
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try WeightsFile.read(url)["x"]?.values == values)
    }

    @Test func refusesToRunPickledCode() throws {
        let error = try expectError { try Fixtures.model("bad_global.pt") }
        #expect(error.contains("refusing to load global 'os.system'"))
        #expect(error.contains("bad_global.pt"))
    }

    @Test func refusesCompressedEntries() throws {
        let error = try expectError { try Fixtures.model("deflated.pt") }
        #expect(error.contains("is compressed"))
    }

    @Test func truncatedCheckpointIsAnError() throws {
        let data = try Data(contentsOf: Fixtures.url("w16.pt"))
        for cut in [10, data.count / 2, data.count - 30] {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-cut-\(cut).pt")
            try data.prefix(cut).write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            let error = try expectError { try UniverSegModel(contentsOf: url) }
            #expect(error.contains(url.path))
        }
    }

    @Test func corruptStorageFailsTheCRC() throws {
        var data = try Data(contentsOf: Fixtures.url("w16.pt"))
        let zip = try ZipArchive(data: data, file: "w16.pt")
        let entry = try #require(zip.entries["w16/data/3"])
        data[entry.dataOffset] ^= 0xFF
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-corrupt.pt")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = try expectError { try UniverSegModel(contentsOf: url) }
        #expect(error.contains("CRC mismatch"))
    }

    @Test func aTensorWhoseValuesDoNotFillItsShapeIsRefused() {
        #expect(throws: UniverSegError(file: "w.safetensors", "tensor 'x' of shape [2, 3] holds 5 values")) {
            try WeightTensor(shape: [2, 3], values: [1, 2, 3, 4, 5]).checkInvariants(name: "x", file: "w.safetensors")
        }
        #expect(throws: Never.self) { try WeightTensor(shape: [2, 0], values: []).checkInvariants(name: "x", file: "w") }
    }

    @Test func missingKeyIsNamed() throws {
        let entries = try Fixtures.entries(of: "w16.safetensors").filter { $0.0 != "dec_blocks.1.target.vmapped.conv.bias" }
        let error = try loadError(entries)
        #expect(error.contains("missing weight 'dec_blocks.1.target.vmapped.conv.bias'"))
    }

    @Test func extraKeyIsNamed() throws {
        let entries = try Fixtures.entries(of: "w16.safetensors") + [("head.weight", "F32", [1], [0, 0, 0, 0])]
        #expect(try loadError(entries).contains("unexpected weight 'head.weight'"))
    }

    @Test func shapeMismatchIsNamed() throws {
        var entries = try Fixtures.entries(of: "w16.safetensors")
        let i = try #require(entries.firstIndex { $0.0 == "enc_blocks.2.target.vmapped.conv.weight" })
        entries[i].2 = [16, 8, 3, 6]
        let error = try loadError(entries)
        #expect(error.contains("weight 'enc_blocks.2.target.vmapped.conv.weight' has shape [16, 8, 3, 6], expected [16, 16, 3, 3]"))
    }

    @Test func otherArchitecturesAreRejected() throws {
        #expect(try loadError([("fc.weight", "F32", [1], [0, 0, 0, 0])]).contains("not UniverSeg weights"))
        // An encoder without its decoder.
        let encoderOnly = try Fixtures.entries(of: "w16.safetensors").filter { !$0.0.hasPrefix("dec_blocks.2") }
        #expect(try loadError(encoderOnly).contains("4 encoder blocks and 2 decoder blocks"))
    }

    @Test func unsupportedDTypeIsNamed() throws {
        var entries = try Fixtures.entries(of: "w16.safetensors")
        let i = try #require(entries.firstIndex { $0.0 == "out_conv.conv.bias" })
        entries[i].1 = "I32"
        #expect(try loadError(entries).contains("tensor 'out_conv.conv.bias' has dtype I32"))
    }

    @Test func malformedSafetensorsAreErrors() throws {
        let badOffsets = try Fixtures.safetensors([("x", "F32", [4], [0, 0, 0, 0])])
        defer { try? FileManager.default.removeItem(at: badOffsets) }
        #expect(try expectError { try UniverSegModel(contentsOf: badOffsets) }.contains("do not fit shape [4]"))

        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("universeg-garbage.safetensors")
        try Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x7B]).write(to: garbage)
        defer { try? FileManager.default.removeItem(at: garbage) }
        #expect(try expectError { try UniverSegModel(contentsOf: garbage) }.contains("header length"))

        let missing = URL(fileURLWithPath: "/nonexistent/universeg.safetensors")
        #expect(try expectError { try UniverSegModel(contentsOf: missing) }.contains("/nonexistent/universeg.safetensors: error: cannot read weights"))
    }

    @Test func nonFiniteWeightsAreRejected() throws {
        var entries = try Fixtures.entries(of: "w16.safetensors")
        let i = try #require(entries.firstIndex { $0.0 == "out_conv.conv.bias" })
        entries[i].3 = withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { Array($0) }
        #expect(try loadError(entries).contains("weight 'out_conv.conv.bias' contains NaN"))
    }

    @Test func bundledDefaultNeverTraps() throws {
        do {
            let model = try UniverSegModel.bundledDefault()
            #expect(model.encoderWidths.count >= 1)
        } catch let error as UniverSegError {
            #expect(error.description.contains("bundled"))
        }
    }

    private func loadError(_ entries: [(String, String, [Int], [UInt8])]) throws -> String {
        let url = try Fixtures.safetensors(entries)
        defer { try? FileManager.default.removeItem(at: url) }
        let message = try expectError { try UniverSegModel(contentsOf: url) }
        #expect(message.hasPrefix(url.path + ": error: "))
        return message
    }
}

/// Runs `body`, which must throw a UniverSegError; returns its one-line description.
func expectError(_ body: () throws -> Any) throws -> String {
    do {
        _ = try body()
    } catch let error as UniverSegError {
        #expect(!error.description.contains("\n"))
        return error.description
    }
    Issue.record("expected an error")
    return ""
}
