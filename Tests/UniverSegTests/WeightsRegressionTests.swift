import Foundation
import Testing
@testable import UniverSeg

/// Replays every committed hostile weights file (Fixtures/regressions/weights: resource bombs and fuzzer finds,
/// see docs/robustness.md) through the reader: each must fail with one line naming the file, within seconds.
/// Before the fixes, five of them ended the process (stack overflow from a dict inside itself, arithmetic
/// overflow from a huge declared storage or stride, a 2^62-element allocation from a broadcast view).
@Suite struct WeightsRegressionTests {
    static let folder = Fixtures.url("regressions/weights")
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()

    @Test func theCorpusIsThere() {
        #expect(Self.files.count >= 11)
    }

    @Test(arguments: files)
    func hostileFileIsAOneLineError(_ name: String) throws {
        let url = Self.folder.appendingPathComponent(name)
        let start = Date()
        #expect {
            _ = try WeightsFile.read(url)
        } throws: { error in
            guard let error = error as? UniverSegError else { return false }
            return error.file == url.path && !error.description.contains("\n")
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    /// torch.save's pickles still load: the nesting rules refuse only what it never writes.
    @Test func realCheckpointsStillLoad() throws {
        for name in ["w16.pt", "w16_half.pt", "w16_bf16.pt"] {
            #expect(try !WeightsFile.read(Fixtures.url(name)).isEmpty)
        }
    }
}
