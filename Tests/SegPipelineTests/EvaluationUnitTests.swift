import Foundation
import Testing
import VolumeIO
@testable import SegPipeline

/// Pieces of `evaluate` and `infer` that need no model: Dice, task.yaml, ensembles' arithmetic.
@Suite struct EvaluationUnitTests {
    @Test func diceByHand() {
        // |A| = 2, |B| = 2, |A ∩ B| = 1: 2·1 / 4.
        #expect(Dice.score([true, true, false, false], [true, false, true, false]) == 0.5)
        #expect(Dice.score([true, false, false], [true, false, false]) == 1)
        #expect(Dice.score([false, false], [true, true]) == 0)
        #expect(Dice.score([false, false], [false, false]) == 1)   // nothing to find, nothing found
        // |A| = 3, |B| = 1, overlap 1: 2 / 4.
        #expect(Dice.score(probabilities: [0.5, 0.9, 0.7, 0.49], mask: [1, 0, 0, 0]) == 0.5)
    }

    @Test func taskYaml() throws {
        let config = try EvaluationTaskConfig.parse("labels: [4, 5]\naxis: 1\nnormalize: {method: window, center: 40, width: 400}\n", file: "t.yaml")
        #expect(config == EvaluationTaskConfig(labels: [4, 5], axis: 1, normalization: .window(center: 40, width: 400)))
        #expect(config.slicing == SlicingOptions(axis: .voxel(1), size: 128, normalization: .window(center: 40, width: 400)))
        #expect(try EvaluationTaskConfig.parse("", file: "t.yaml") == EvaluationTaskConfig())
        #expect(try EvaluationTaskConfig.parse("normalize: minmax", file: "t.yaml").normalization == .minMax)
        #expect(try EvaluationTaskConfig.parse("normalize: {method: percentile, lower: 1, upper: 99}", file: "t.yaml")
            .normalization == .percentile(lower: 1, upper: 99))
        #expect(try EvaluationTaskConfig.parse("labels: 3", file: "t.yaml").labels == [3])
    }

    /// task.yaml is read by the pipeline definition's reader: every error at once, each with its line and column.
    @Test func taskYamlErrorsAreLocatedLikePipelineErrors() {
        func failure(_ text: String) -> String? {
            do { _ = try EvaluationTaskConfig.parse(text, file: "t.yaml"); return nil } catch { return (error as? PipelineSpecError)?.message }
        }
        #expect(failure("axis: 3") == "t.yaml:1:7: error: 'axis' must be from 0 to 2, got 3\n    axis: 3\n          ^")
        #expect(failure("labels: [a]")?.hasPrefix("t.yaml:1:10: error: 'labels' must be a whole number") == true)
        #expect(failure("normalize: {method: window, center: 40, width: 0}")?
            .hasPrefix("t.yaml:1:48: error: 'width' must be strictly between 0.0 and 1000000000.0, got 0.0") == true)
        #expect(failure("- 1")?.hasPrefix("t.yaml:1:1: error: 'task.yaml' must be a mapping of keys to values") == true)
        let both = failure("label: [1]\naxis: 7\n") ?? ""
        #expect(both.contains("t.yaml:1:1: error: unknown key 'label' in 'task.yaml' (did you mean 'labels'?)"))
        #expect(both.contains("t.yaml:2:7: error: 'axis' must be from 0 to 2, got 7"))
    }

    @Test func roundRobinSplit() {
        #expect(RawInference.roundRobin(count: 7, sets: 3) == [[0, 3, 6], [1, 4], [2, 5]])
        #expect(RawInference.roundRobin(count: 2, sets: 1) == [[0, 1]])
    }

    @Test func logitOfMeanProbabilityIsStable() {
        // One member: its own logits.
        #expect(RawInference.logitOfMeanProbability([[0.25, -3, 40]]).elementsEqual([0.25, -3, 40]) { abs($0 - $1) < 1e-6 })
        // Symmetric logits average to probability 1/2.
        #expect(RawInference.logitOfMeanProbability([[2, -50], [-2, 50]]) == [0, 0])
        // Large logits stay finite: mean of σ(100) and σ(90) is 1 − (e^-100 + e^-90)/2 (to leading order).
        let big = RawInference.logitOfMeanProbability([[100], [90]])[0]
        #expect(abs(Double(big) - (-log((exp(-100.0) + exp(-90.0)) / 2))) < 1e-4)
        // By hand: σ(0) = 0.5, σ(ln 3) = 0.75 → mean 0.625 → logit ln(0.625 / 0.375) = ln(5/3).
        #expect(abs(Double(RawInference.logitOfMeanProbability([[0], [Float(log(3.0))]])[0]) - log(5.0 / 3)) < 1e-6)
    }
}
