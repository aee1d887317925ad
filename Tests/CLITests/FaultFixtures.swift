import Foundation
import SegPipeline
import VolumeIO

/// What the fault tests share: small studies and a small support set cut from the sample data, the pipeline that
/// segments them, the built binary started as a child, and the checks made after a fault (outputs, ledger,
/// temporaries).
enum FaultFixtures {
    static let repo = UniverSegBinary.repository
    /// The smallest random-init model the CLI tests use.
    static let weights = repo.appendingPathComponent("Tests/UniverSegTests/Fixtures/mixed.safetensors")
    static let brain1 = repo.appendingPathComponent("SampleData/support/from-brain1")
    static let brain2 = repo.appendingPathComponent("SampleData/nifti-study/brain2/brain2_image.nii.gz")

    /// Slices `slices` of `volume`, every `step`-th voxel in plane, with the affine that keeps them where they were.
    static func crop<V>(_ volume: Volume<V>, slices: Range<Int>, step: Int = 1) -> Volume<V> {
        let (nx, ny) = ((volume.shape[0] + step - 1) / step, (volume.shape[1] + step - 1) / step)
        var voxels: [V] = []
        voxels.reserveCapacity(nx * ny * slices.count)
        for k in slices { for j in 0..<ny { for i in 0..<nx { voxels.append(volume[i * step, j * step, k]) } } }
        var affine = volume.affine
        for r in 0..<3 {
            affine[r, 3] += Double(slices.lowerBound) * volume.affine[r, 2]
            affine[r, 0] *= Double(step)
            affine[r, 1] *= Double(step)
        }
        return Volume(shape: [nx, ny, slices.count], affine: affine, voxels: voxels)
    }

    /// A support library of brain1's 7 labelled slices at 128 × 128 (every second voxel): quick to read, so a
    /// study's time is mostly its own.
    static func makeSmallSupport(in folder: URL) throws -> URL {
        let support = folder.appendingPathComponent("support")
        try NiftiWriter.write(crop(try NiftiReader.readImage(brain1.appendingPathComponent("brain1_image.nii.gz")),
                                   slices: 11..<18, step: 2),
                              to: support.appendingPathComponent("brain1_image.nii.gz"))
        try NiftiWriter.write(crop(try NiftiReader.readLabels(brain1.appendingPathComponent("brain1_label.nii.gz")),
                                   slices: 11..<18, step: 2),
                              to: support.appendingPathComponent("brain1_label.nii.gz"))
        return support
    }

    /// Studies `folder/studies/NAME/NAME_image.nii.gz`: `count` slices of brain2 (every `step`-th voxel in plane),
    /// starting at a slice that depends on the study's place in `names`, so the studies differ. A study already
    /// there stays as it is. Studies for which `blank` is true have one intensity throughout: the pipeline reads,
    /// writes and records them like any other but does not run the network on them (it skips blank slices), for
    /// the tests about bookkeeping where inference time would only slow them down.
    static func makeStudies(in folder: URL, names: [String], slices count: Int, step: Int = 1,
                            under inbox: String = "studies", blank: (String) -> Bool = { _ in false }) throws {
        let image = try NiftiReader.readImage(brain2)
        for (n, name) in names.enumerated() {
            let file = folder.appendingPathComponent("\(inbox)/\(name)/\(name)_image.nii.gz")
            if FileManager.default.fileExists(atPath: file.path) { continue }
            let first = 6 + (3 * n) % 14
            var study = crop(image, slices: first..<(first + count), step: step)
            if blank(name) { study.voxels = [Float](repeating: 0, count: study.voxels.count) }
            try NiftiWriter.write(study, to: file)
        }
    }

    /// `folder/pipeline.yaml`: NIfTI studies in `studies`, one target, the small model, outputs in `output`.
    static func writePipeline(in folder: URL, support: URL = brain1, output: String = "out", watch: String = "") throws {
        try """
            name: faults
            inputs: {folder: studies, format: nifti, image: "*_image.nii.gz"}
            support: {library: \(support.path), strategy: random}
            targets: [{name: lesion, value: 1, labels: [1]}]
            model: {weights: \(weights.path), support_size: 2, ensemble: 1, seed: 3}
            outputs: {folder: \(output), writers: [nifti, report, qc]}
            concurrency: {threads: 1}
            \(watch)
            """.write(to: folder.appendingPathComponent("pipeline.yaml"), atomically: true, encoding: .utf8)
    }

    /// Starts the built binary in `folder`, its output discarded (a child killed with SIGKILL leaves nothing to read).
    static func start(_ arguments: [String], in folder: URL) throws -> Process {
        let process = Process()
        process.executableURL = UniverSegBinary.url
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Relative paths of every file under `folder`, without the files that record times or hold the lock.
    static func outputFiles(_ folder: URL) -> Set<String> {
        let all = FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []
        return Set(all.filter { path in
            var isFolder: ObjCBool = false
            FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path, isDirectory: &isFolder)
            return !isFolder.boolValue && !["ledger.jsonl", ".universeg.lock", "index.html"].contains(path)
        })
    }

    /// How the output folder `actual` differs from `expected` (empty: the same). Every file is compared byte for
    /// byte except: the ledger, lock and summary page (they hold times and are not compared), each report
    /// (compared as JSON without `timings` and `finishedAt`), and summary.csv (its rows in any order: studies
    /// done before a restart are listed first).
    static func differences(expected: URL, actual: URL) -> [String] {
        let expectedFiles = outputFiles(expected), actualFiles = outputFiles(actual)
        var found: [String] = []
        for path in expectedFiles.symmetricDifference(actualFiles).sorted() {
            found.append(expectedFiles.contains(path) ? "missing: \(path)" : "not expected: \(path)")
        }
        for path in expectedFiles.intersection(actualFiles).sorted() {
            guard let a = try? Data(contentsOf: expected.appendingPathComponent(path)),
                  let b = try? Data(contentsOf: actual.appendingPathComponent(path)) else {
                found.append("unreadable: \(path)")
                continue
            }
            let same: Bool
            if path.hasSuffix("_report.json") {
                same = reportWithoutTimes(a) == reportWithoutTimes(b) && reportWithoutTimes(a) != nil
            } else if path == "summary.csv" {
                same = a.split(separator: UInt8(ascii: "\n")).sorted { $0.lexicographicallyPrecedes($1) }
                    == b.split(separator: UInt8(ascii: "\n")).sorted { $0.lexicographicallyPrecedes($1) }
            } else {
                same = a == b
            }
            if !same { found.append("differs: \(path)") }
        }
        return found
    }

    static func reportWithoutTimes(_ data: Data) -> NSDictionary? {
        guard var object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        object["timings"] = nil
        object["finishedAt"] = nil
        return object as NSDictionary
    }

    /// Studies the ledger lists as done, with how many times each.
    static func doneCounts(_ out: URL) -> [String: Int] {
        ledgerCounts(out, status: "done")
    }

    /// Studies the ledger lists with `status` ("done", "failed"), with how many times each.
    static func ledgerCounts(_ out: URL, status: String) -> [String: Int] {
        let text = (try? String(contentsOf: out.appendingPathComponent("ledger.jsonl"), encoding: .utf8)) ?? ""
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  entry["status"] as? String == status, let study = entry["study"] as? String else { continue }
            counts[study, default: 0] += 1
        }
        return counts
    }

    /// Temporary files (`.tmp-*`) anywhere under `folder`.
    static func temporaries(_ folder: URL) -> [String] {
        (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? [])
            .filter { ($0 as NSString).lastPathComponent.hasPrefix(".tmp-") }
    }

    static func contents(_ folder: URL) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
    }

    /// `count` moments in `0 ..< span` seconds, drawn from `seed`.
    static func moments(_ count: Int, seed: UInt64, span: Double) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Double(generator.next() % 10_000) / 10_000 * span }
    }
}
