import Foundation
import Testing
import SegPipeline
import UniverSeg
import VolumeIO

/// `universeg evaluate` on small synthetic task folders written at test time, with the small random-init
/// 3-level model from the engine fixtures (fast even in debug builds; its Dice means nothing, the plumbing does).
@Suite struct EvaluateCommandTests {
    typealias F = EngineCLIFixtures
    static let model = F.engineFixtures.appendingPathComponent("mixed.safetensors")

    /// A 32 x 16 x `slices` volume, 1 x 1 x 3 mm, z flipped (so model slice order is the reverse of native order).
    /// Slice k shows a bright disc (label `value`) at a place that depends on k, unless k is in `empty`.
    static func volume(slices: Int, shift: Int = 0, value: Int32 = 1, empty: Set<Int> = []) -> (Volume<Float>, Volume<Int32>) {
        let affine = Affine(rows: [[1, 0, 0, -16], [0, 1, 0, -8], [0, 0, -3, 30], [0, 0, 0, 1]])
        var image = [Float](), label = [Int32]()
        for k in 0..<slices {
            let (cx, cy, r) = (Double(8 + 3 * ((k + shift) % 5)), Double(5 + (k + shift) % 4), Double(3 + (k + shift) % 3))
            for j in 0..<16 {
                for i in 0..<32 {
                    let inside = !empty.contains(k) && (Double(i) - cx) * (Double(i) - cx) + (Double(j) - cy) * (Double(j) - cy) <= r * r
                    image.append(100 + (inside ? 600 : 0) + Float(50 * sin(Double(i) * 0.7 + Double(k + shift)) * cos(Double(j) * 0.3)))
                    label.append(inside ? value : 0)
                }
            }
        }
        return (Volume(shape: [32, 16, slices], affine: affine, voxels: image), Volume(shape: [32, 16, slices], affine: affine, voxels: label))
    }

    static func writePair(_ pair: (Volume<Float>, Volume<Int32>), name: String, in folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try NiftiWriter.write(pair.0, to: folder.appendingPathComponent("\(name)_image.nii.gz"))
        try NiftiWriter.write(pair.1, to: folder.appendingPathComponent("\(name)_label.nii.gz"))
    }

    /// Support: one volume of 6 slices with foreground; query: 4 slices, native slice 1 without foreground.
    static func task(yaml: String? = "labels: [1]\naxis: 2\nnormalize: minmax\n") throws -> URL {
        let folder = try F.temporaryFolder().appendingPathComponent("synthetic")
        try writePair(volume(slices: 6), name: "a", in: folder.appendingPathComponent("support"))
        try writePair(volume(slices: 4, shift: 2, empty: [1]), name: "b", in: folder.appendingPathComponent("query"))
        if let yaml { try yaml.write(to: folder.appendingPathComponent("task.yaml"), atomically: true, encoding: .utf8) }
        return folder
    }

    func evaluate(_ task: EvaluationTask, _ model: UniverSegModel, _ options: Evaluator.Options) async throws -> EvaluationReport {
        try await F.blocking { try Evaluator.evaluate(task, model: model, options: options) }
    }

    /// Support voxels twice as large in-plane (twice the field of view): the summary and the JSON say so.
    @Test func aSupportWithAnotherFieldOfViewIsNoted() async throws {
        let folder = try Self.task()
        var (image, label) = Self.volume(slices: 6)
        let wide = Affine(rows: [[2, 0, 0, -32], [0, 2, 0, -16], [0, 0, -3, 30], [0, 0, 0, 1]])
        image.affine = wide
        label.affine = wide
        try Self.writePair((image, label), name: "a", in: folder.appendingPathComponent("support"))
        let json = folder.appendingPathComponent("result.json")
        let result = try await F.run(["evaluate", folder.path, "--weights", Self.model.path, "--support-size", "2",
                                      "--threads", "1", "--json", json.path])
        let note = "the support covers 2.00x the study's field of view (0.50 mm vs 0.25 mm per model pixel)"
        #expect(result.status == 0 && result.out.contains("  warning: \(note)"), "\(result.out)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        #expect((object["warnings"] as? [String])?.first?.hasPrefix(note) == true)
        // The unchanged task has no such note.
        let plain = try await F.run(["evaluate", try Self.task().path, "--weights", Self.model.path, "--support-size", "2", "--threads", "1"])
        #expect(!plain.out.contains("warning"), "\(plain.out)")
    }

    @Test func jsonHasTheDocumentedKeysAndSaneValues() async throws {
        let folder = try Self.task()
        let json = folder.appendingPathComponent("result.json")
        let result = try await F.run(["evaluate", folder.path, "--weights", Self.model.path, "--support-size", "2", "--ensemble", "2",
                                "--seed", "7", "--json", json.path, "--baseline", "--threads", "1"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.hasPrefix("synthetic: paper protocol (S=2, K=2, seed 7): mean Dice 2D "), "\(result.out)")
        #expect(result.out.contains("  whole volumes (\(SupportSpec.defaultStrategy.rawValue)"), "\(result.out)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        for key in ["slices", "volumes", "mean_dice_2d", "mean_dice_3d", "support_size", "ensemble", "seconds",
                    "baseline_mean_dice_2d", "baseline_mean_dice_3d", "support_sets", "effective_support_size", "seed",
                    "whole_volume", "mean_precision", "mean_recall", "fp_slices", "empty_slices", "missed_slices",
                    "labelled_slices"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        let slices = try #require(object["slices"] as? [[String: Any]])
        // Native slices 0, 2, 3 show foreground; the z flip must not leak into the reported indices.
        #expect(slices.map { $0["index"] as? Int } == [3, 2, 0])
        #expect(slices.allSatisfy { $0["volume"] as? String == "b" && ($0["dice"] as? Double).map { (0...1).contains($0) } == true })
        let volumes = try #require(object["volumes"] as? [[String: Any]])
        #expect(volumes.count == 1 && volumes[0]["name"] as? String == "b" && volumes[0]["dice_3d"] != nil)
        // Query b: 4 slices along z, slice 1 without foreground.
        #expect(volumes[0]["labelled_slices"] as? Int == 3 && volumes[0]["empty_slices"] as? Int == 1)
        for key in ["precision", "recall", "fp_slices", "missed_slices"] { #expect(volumes[0][key] != nil, "missing \(key)") }
        #expect(object["support_size"] as? Int == 2 && object["ensemble"] as? Int == 2 && object["seed"] as? Int == 7)
        let sets = try #require(object["support_sets"] as? [[[String: Any]]])
        #expect(sets.count == 2 && sets.allSatisfy { $0.count == 2 })
        let mean = slices.compactMap { $0["dice"] as? Double }.reduce(0, +) / 3
        #expect(abs((object["mean_dice_2d"] as? Double ?? -1) - mean) < 1e-12)

        // --json - prints the JSON instead of the summary.
        let stdout = try await F.run(["evaluate", folder.path, "--weights", Self.model.path, "--support-size", "1", "--json", "-"])
        #expect(stdout.status == 0, "\(stdout.err)")
        #expect((try JSONSerialization.jsonObject(with: Data(stdout.out.utf8)) as? [String: Any])?["mean_dice_2d"] != nil)
    }

    /// `--annotate-next`: per query volume, each measure's picks and the random draws, all among the non-blank
    /// slices, in file indices; identical picks score the same Dice; draws differ from one another.
    @Test func annotateNextComparesMeasuresWithRandomDraws() async throws {
        let folder = try F.temporaryFolder().appendingPathComponent("annotate")
        try Self.writePair(Self.volume(slices: 6), name: "a", in: folder.appendingPathComponent("support"))
        try Self.writePair(Self.volume(slices: 8, shift: 1, empty: [0, 1]), name: "b", in: folder.appendingPathComponent("query"))
        try "labels: [1]\naxis: 2\nnormalize: minmax\n".write(to: folder.appendingPathComponent("task.yaml"), atomically: true, encoding: .utf8)
        let json = folder.appendingPathComponent("next.json")
        let result = try await F.run(["evaluate", folder.path, "--weights", Self.model.path, "--support-size", "4", "--threads", "1",
                                      "--annotate-next", "2", "--annotate-next-measures", "expected-errors-spread,mean-entropy",
                                      "--annotate-next-random-draws", "2", "--json", json.path])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.hasPrefix("volume\tdice\texpected-errors-spread\tmean-entropy\trandom (mean ± sd of 2)"), "\(result.out)")
        #expect(result.out.contains("\nmean (1 volumes)\t"), "\(result.out)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["volume"] as? String == "b")
        #expect(rows[0]["measures"] as? [String] == ["expected-errors-spread", "mean-entropy"])
        let picks = try #require((rows[0]["least_confident"] as? [[String: Any]])) + (try #require(rows[0]["random"] as? [[String: Any]]))
        #expect(picks.count == 4)
        var diceOf: [[Int]: Double] = [:]
        for pick in picks {
            let slices = try #require(pick["slices"] as? [Int]), dice = try #require(pick["dice"] as? Double)
            #expect(slices.count == 2 && Set(slices).count == 2 && slices.allSatisfy { (0..<8).contains($0) }, "\(slices)")
            #expect((0...1).contains(dice))
            if let earlier = diceOf[slices] { #expect(earlier == dice) }
            diceOf[slices] = dice
        }
        #expect(Set(picks.suffix(2).map { $0["slices"] as? [Int] ?? [] }).count > 1, "two random draws alike")
        let unknown = try await F.run(["evaluate", folder.path, "--weights", Self.model.path, "--annotate-next", "2",
                                       "--annotate-next-measures", "loudest"])
        #expect(unknown.status != 0 && unknown.err.contains("unknown measure 'loudest'"), "\(unknown.err)")
    }

    @Test func seedsReproduceResults() async throws {
        let task = try EvaluationTask.load(try Self.task())
        let model = try UniverSegModel(contentsOf: Self.model)
        let options = Evaluator.Options(supportSize: 3, ensemble: 2, seed: 11)
        var first = try await evaluate(task, model, options)
        var again = try await evaluate(task, model, options)
        (first.seconds, again.seconds) = (0, 0)
        #expect(first == again)
        #expect(first.supportSets.count == 2 && first.supportSets[0] != first.supportSets[1])
        let other = try await evaluate(task, model, .init(supportSize: 3, ensemble: 2, seed: 12))
        #expect(other.supportSets != first.supportSets)
        // Member 0 does not depend on the ensemble size, so K = 1 uses the first member's set.
        let single = try await evaluate(task, model, .init(supportSize: 3, ensemble: 1, seed: 11))
        #expect(single.supportSets == [first.supportSets[0]])
    }

    /// The sweep's K = 1 column is `evaluate --ensemble 1`, and its ensemble column is `evaluate --ensemble K`.
    @Test func sweepRowsMatchSingleEvaluations() async throws {
        let task = try EvaluationTask.load(try Self.task())
        let model = try UniverSegModel(contentsOf: Self.model)
        let sweep = try await F.blocking { try Evaluator.sweep(task, model: model, sizes: [2, 8], ensemble: 2, seed: 3, baseline: true) }
        #expect(sweep.rows.map(\.supportSize) == [2, 8])
        #expect(sweep.rows.map(\.effectiveSupportSize) == [2, 6])
        #expect(sweep.querySlices == 3 && sweep.supportPool == 6)
        for row in sweep.rows {
            let one = try await evaluate(task, model, .init(supportSize: row.supportSize, ensemble: 1, seed: 3))
            let two = try await evaluate(task, model, .init(supportSize: row.supportSize, ensemble: 2, seed: 3))
            #expect(abs(one.meanDice2D - row.meanDice2D) < 1e-12)
            #expect(abs(two.meanDice2D - row.meanDice2DEnsemble) < 1e-12)
        }
        // S = 8 > pool: the whole pool, the same for every member, so the ensemble changes nothing.
        #expect(sweep.rows[1].meanDice2D == sweep.rows[1].meanDice2DEnsemble)
        #expect(sweep.table().contains("     8       6"))
    }

    @Test func sweepPrintsThePaperTable() async throws {
        let folder = try Self.task()
        let json = folder.appendingPathComponent("sweep.json")
        let result = try await F.run(["evaluate", folder.path, "--weights", Self.model.path, "--sweep", "--baseline", "--json", json.path])
        #expect(result.status == 0, "\(result.err)")
        let lines = result.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 10, "\(result.out)")
        #expect(lines.first?.hasPrefix("synthetic: mean Dice 2D over 3 query slices; 6 foreground support slices; seed 0; ") == true)
        #expect(lines[1] == "     S    used       K=1       K=5")
        #expect(lines[2...8].map { $0.prefix(14) } == ["     1       1", "     2       2", "     4       4", "     8       6",
                                                       "    16       6", "    32       6", "    64       6"])
        #expect(lines[9].hasPrefix("baseline (label of the nearest foreground support slice): "))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.map { $0["support_size"] as? Int } == [1, 2, 4, 8, 16, 32, 64])
        #expect(rows.allSatisfy { $0["mean_dice_2d"] != nil && $0["mean_dice_2d_ensemble"] != nil })
        #expect(object["ensemble"] as? Int == 5 && object["baseline_mean_dice_2d"] != nil)
    }

    /// Support == query: the nearest support slice of each query slice is itself, so the baseline is exact in 2D
    /// and (every slice has foreground, 4 model pixels per voxel) in 3D after mapping back to the native grid.
    @Test func baselineIsPerfectWhenSupportIsTheQuery() async throws {
        let folder = try F.temporaryFolder().appendingPathComponent("same")
        try Self.writePair(Self.volume(slices: 5), name: "v", in: folder.appendingPathComponent("support"))
        try Self.writePair(Self.volume(slices: 5), name: "v", in: folder.appendingPathComponent("query"))
        let report = try await evaluate(try EvaluationTask.load(folder), try UniverSegModel(contentsOf: Self.model),
                                        .init(supportSize: 2, baseline: true))
        #expect(report.slices.count == 5)
        #expect(report.slices.allSatisfy { $0.baselineDice == 1 })
        #expect(report.baselineMeanDice2D == 1 && report.baselineMeanDice3D == 1)
    }

    /// One 2D support slice and one 2D query slice whose squares overlap by half: Dice 2·32 / (64 + 64) = 0.5 in 2D
    /// (on the model grid, 16 model pixels per voxel) and in 3D (native).
    @Test func baselineDiceOnAHandComputedCase() async throws {
        let folder = try F.temporaryFolder().appendingPathComponent("squares")
        func square(x0: Int) -> (Volume<Float>, Volume<Int32>) {
            var image = [Float](repeating: 0, count: 32 * 16), label = [Int32](repeating: 0, count: 32 * 16)
            for j in 4..<12 { for i in x0..<(x0 + 8) { image[i + 32 * j] = 1; label[i + 32 * j] = 2 } }
            return (Volume(shape: [32, 16, 1], affine: .identity, voxels: image), Volume(shape: [32, 16, 1], affine: .identity, voxels: label))
        }
        try Self.writePair(square(x0: 4), name: "s", in: folder.appendingPathComponent("support"))
        try Self.writePair(square(x0: 8), name: "q", in: folder.appendingPathComponent("query"))
        let report = try await evaluate(try EvaluationTask.load(folder), try UniverSegModel(contentsOf: Self.model),
                                        .init(supportSize: 4, baseline: true))
        #expect(report.effectiveSupportSize == 1 && report.supportPool == 1)
        #expect(report.slices.map(\.baselineDice) == [0.5])
        #expect(report.baselineMeanDice3D == 0.5)
    }

    @Test func malformedTaskFoldersNameTheFolder() async throws {
        let run = { (folder: URL) in try await F.run(["evaluate", folder.path, "--weights", Self.model.path]) }
        let missing = try Self.task()
        try FileManager.default.removeItem(at: missing.appendingPathComponent("query"))
        #expect(try await run(missing) == (1, "", "\(missing.path)/query: error: missing: a task folder needs support/ and query/ folders of NAME_image.nii.gz + NAME_label.nii.gz pairs\n"))

        let unpaired = try Self.task()
        try FileManager.default.removeItem(at: unpaired.appendingPathComponent("support/a_label.nii.gz"))
        #expect(try await run(unpaired) == (1, "", "\(unpaired.path)/support: error: a_image.nii.gz has no a_label.nii.gz\n"))

        let typo = try Self.task(yaml: "label: [1]\n")
        #expect(try await run(typo).err.hasPrefix("\(typo.path)/task.yaml:1:1: error: unknown key 'label' in 'task.yaml' (did you mean 'labels'?)\n"))

        let nothing = try Self.task(yaml: "labels: [7]\n")
        #expect(try await run(nothing).err == "\(nothing.path)/support: error: no support slice shows foreground (label values [7])\n")

        let noSuch = try F.temporaryFolder().appendingPathComponent("nope")
        #expect(try await run(noSuch).err == "\(noSuch.path): error: no such task folder\n")

        #expect(try await F.run(["evaluate", missing.path, "--sweep", "--support-size", "4"]).status == 64)

        // --json onto the task's own files is refused before any work.
        let task = try Self.task(yaml: "labels: [1]\n")
        let yaml = task.appendingPathComponent("task.yaml")
        let clash = try await F.run(["evaluate", task.path, "--weights", Self.model.path, "--json", yaml.path])
        #expect(clash.status == 64 && clash.err.contains("would overwrite or land inside the input \(yaml.path)"), "\(clash.err)")
        #expect(try String(contentsOf: yaml, encoding: .utf8) == "labels: [1]\n")
    }
}
