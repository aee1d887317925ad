import Foundation
import Testing
@testable import VolumeIO

/// Replays the committed hostile NIfTI and DICOM files (Fixtures/regressions: resource bombs and fuzzer finds,
/// see docs/robustness.md) through the readers' entry points: each returns or fails with one line naming the
/// file, within seconds. Peak memory of the same files is measured on the CLI in ResourceBombTests.
@Suite struct ReaderRegressionTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/regressions")

    static func files(_ kind: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(kind).path)) ?? []).sorted()
    }

    @Test(arguments: files("nifti"))
    func niftiReturnsOrFailsInOneLine(_ name: String) throws {
        let url = Self.folder.appendingPathComponent("nifti/\(name)")
        let start = Date()
        // As the fuzz harness reads: every volume up to 4, as Float and as labels.
        let volumes = (try? NiftiReader.readHeader(url).volumeCount) ?? 1
        for index in 0 ..< min(volumes, 4) {
            let volumeIndex = volumes > 1 ? index : nil
            do {
                // A gzip stream longer than the header declares is read up to the declared size only.
                let volume = try NiftiReader.readImage(url, volumeIndex: volumeIndex)
                #expect(volume.voxels.count <= 1 << 20, "\(name) gave \(volume.voxels.count) voxels")
                _ = try NiftiReader.readLabels(url, volumeIndex: volumeIndex)
            } catch let error as VolumeIOError {
                #expect(error.file == url.path && !error.description.contains("\n"), "\(error)")
            }
        }
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test(arguments: files("dicom"))
    func dicomFailsInOneLineNamingTheFile(_ name: String) throws {
        let url = Self.folder.appendingPathComponent("dicom/\(name)")
        let start = Date()
        let read = DicomReader.readAll(url)
        #expect(read.volumes.isEmpty)
        #expect(read.failures.count == 1 && read.failures.allSatisfy { $0.path == url.path && !$0.description.contains("\n") },
                "\(read.failures)")
        #expect(Date().timeIntervalSince(start) < 10)
    }

    /// DCMTK cannot defer values read from a deflate stream and allocated each declared length first (3 GB for a
    /// 6 KB file); the shim walks the inflated stream and refuses such a file before DCMTK parses it.
    @Test(arguments: ["fuzz-3GB-element-allocation.dcm", "deflate-3GB-element-before-pixels.dcm"])
    func deflatedElementLongerThanItsDataIsRefusedBeforeParsing(_ name: String) {
        let read = DicomReader.readAll(Self.folder.appendingPathComponent("dicom/\(name)"))
        #expect(read.failures.map(\.description).joined().contains("but the deflated dataset ends"), "\(read.failures)")
    }

    @Test func theCorpusIsThere() {
        #expect(Self.files("nifti").count >= 4 && Self.files("dicom").count >= 5)
    }
}
