import Foundation
import Testing
@testable import UniverSeg

@Suite struct InputValidationTests {
    let model: UniverSegModel
    let image: [Float]
    let label: [Float]

    init() throws {
        model = try Fixtures.model("w16.safetensors")
        image = (0 ..< 32 * 32).map { Float($0 % 32) / 31 }
        label = (0 ..< 32 * 32).map { $0 % 32 < 16 ? 1 : 0 }
    }

    @Test func emptySupportSet() throws {
        #expect(try expectError { try model.prepareSupport(images: [], labels: [], size: (32, 32)) }.contains("support set is empty"))
    }

    @Test func mismatchedCounts() throws {
        #expect(try expectError { try model.prepareSupport(images: [image, image], labels: [label], size: (32, 32)) }
            .contains("2 images but 1 labels"))
    }

    @Test func wrongPixelCount() throws {
        let error = try expectError { try model.prepareSupport(images: [image], labels: [label], size: (32, 16)) }
        #expect(error.contains("support image 0 has 1024 pixels, expected 32x16 = 512"))
    }

    @Test func sizeNotDivisible() throws {
        let error = try expectError { try model.prepareSupport(images: [image], labels: [label], size: (30, 30)) }
        #expect(error.contains("not divisible by 8"))
    }

    @Test func absurdSizeIsRefusedBeforeAllocating() throws {
        let error = try expectError { try model.prepareSupport(images: [image], labels: [label], size: (1 << 20, 1 << 20)) }
        #expect(error.contains("outside 1...2048"))
    }

    @Test func supportTooLargeForMemoryIsRefused() throws {
        let side = 2048, pixels = side * side
        let big = [Float](repeating: 0.5, count: pixels)
        let images = [[Float]](repeating: big, count: 1024)
        let error = try expectError { try model.prepareSupport(images: images, labels: images, size: (side, side)) }
        #expect(error.contains("more than this machine's"))
    }

    @Test func nonFiniteValues() throws {
        var bad = image
        bad[33] = .nan
        #expect(try expectError { try model.prepareSupport(images: [bad], labels: [label], size: (32, 32)) }
            .contains("support image 0 has a non-finite value (nan) at (row 1, column 1)"))
        let support = try model.prepareSupport(images: [image], labels: [label], size: (32, 32))
        bad[33] = .infinity
        #expect(try expectError { try model.predictLogits(query: bad, support: support) }.contains("query image has a non-finite value"))
    }

    @Test func unnormalisedValues() throws {
        var bad = label
        bad[0] = 255
        #expect(try expectError { try model.prepareSupport(images: [image], labels: [bad], size: (32, 32)) }
            .contains("support label 0 has value 255.0"))
    }

    @Test func queryOfAnotherSize() throws {
        let support = try model.prepareSupport(images: [image], labels: [label], size: (32, 32))
        #expect(try expectError { try model.predictLogits(query: [Float](repeating: 0, count: 64 * 64), support: support) }
            .contains("query image has 4096 pixels, expected 32x32"))
    }

    @Test func supportFromAnotherModel() throws {
        let other = try Fixtures.model("w16.safetensors")
        let support = try other.prepareSupport(images: [image], labels: [label], size: (32, 32))
        #expect(try expectError { try model.predictLogits(query: image, support: support) }.contains("another model"))
    }

    @Test func badThreadCountsAndEnsembles() throws {
        let support = try model.prepareSupport(images: [image], labels: [label], size: (32, 32))
        #expect(try expectError { try model.predictLogits(query: image, support: support, threads: 0) }.contains("thread count 0"))
        #expect(try expectError { try model.predictProbabilities(query: image, ensemble: []) }.contains("no support sets"))
        let big = try model.prepareSupport(images: [image + image], labels: [label + label], size: (64, 32))
        #expect(try expectError { try model.predictProbabilities(query: image, ensemble: [support, big]) }.contains("differ in size"))
    }

    @Test func sigmoidIsStable() {
        #expect(UniverSegModel.sigmoid(0) == 0.5)
        #expect(UniverSegModel.sigmoid(-200) >= 0)
        #expect(UniverSegModel.sigmoid(200) == 1)
        #expect(abs(UniverSegModel.sigmoid(2) - 0.880797) < 1e-6)
    }
}
