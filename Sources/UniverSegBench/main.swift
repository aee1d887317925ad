// Times the engine on one support size and prints one JSON line (scripts/benchmark.sh builds the table).
// Usage: universeg-bench [--weights FILE (default: the bundled model)] [--precision auto|fp32|bf16 (default auto, as the CLI)] [--support 16] [--size 128] [--queries 5] [--threads 2]
//        [--convolution direct|winograd2x2|winograd4x4] [--dump LOGITS.f32] [--parallel-queries N]
// --parallel-queries N runs N queries at once (each with --threads threads) and reports wall time per slice:
// the throughput a pipeline gets by overlapping slices instead of splitting each one across threads.
// --study SLICES [--targets 2] times a whole study the way the pipeline's UniverSegSegmenter runs it: per target,
// one support set prepared, then every slice through predictProbabilities (--parallel-queries at a time, each with
// --threads threads; the pipeline runs 2 x 1 on 2 threads); prints slices per second.
// --gemm MxNxK[,MxNxK...] times the fp32 (OpenBLAS) and bf16 GEMM kernels on one thread, one JSON line per shape.
import Foundation
import Glibc
import Synchronization
import UniverSeg

struct Options {
    var weights = ""
    var support = 16
    var size = 128
    var queries = 5
    var threads = 2
    var convolution = ConvolutionAlgorithm.winograd4x4
    var dump: String? = nil
    var parallelQueries = 1
    var studySlices: Int? = nil
    var targets = 2
    var precision = Precision.auto
    var gemmShapes: [[Int]] = []

    init(_ arguments: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < arguments.count else { throw UniverSegError("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        func number() throws -> Int {
            let text = try value()
            guard let n = Int(text), n > 0 else { throw UniverSegError("\(arguments[i - 1]) needs a positive integer, got '\(text)'") }
            return n
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--weights": weights = try value()
            case "--support": support = try number()
            case "--size": size = try number()
            case "--queries": queries = try number()
            case "--threads": threads = try number()
            case "--dump": dump = try value()
            case "--parallel-queries": parallelQueries = try number()
            case "--study": studySlices = try number()
            case "--targets": targets = try number()
            case "--precision":
                let name = try value()
                guard let p = Precision(rawValue: name) else {
                    throw UniverSegError("--precision must be one of \(Precision.allCases.map(\.rawValue)), got '\(name)'")
                }
                precision = p
            case "--gemm":
                let text = try value()
                gemmShapes = text.split(separator: ",").map { $0.split(separator: "x").compactMap { Int($0) } }
                guard gemmShapes.allSatisfy({ $0.count == 3 && $0.allSatisfy { $0 > 0 } }) else {
                    throw UniverSegError("--gemm needs shapes MxNxK separated by commas, got '\(text)'")
                }
            case "--convolution":
                let name = try value()
                guard let algorithm = ConvolutionAlgorithm(rawValue: name) else {
                    throw UniverSegError("--convolution must be one of \(ConvolutionAlgorithm.allCases.map(\.rawValue)), got '\(name)'")
                }
                convolution = algorithm
            default: throw UniverSegError("unknown option '\(arguments[i])'")
            }
            i += 1
        }
    }
}

/// A smooth deterministic test image in [0, 1] (the values do not affect the speed).
func image(_ seed: Int, _ size: Int) -> [Float] {
    (0 ..< size * size).map { i in
        let y = Float(i / size) / Float(size), x = Float(i % size) / Float(size), s = Float(seed)
        return 0.5 + 0.5 * sin(6.3 * (x + 0.37 * s)) * cos(4.1 * (y - 0.21 * s))
    }
}

/// Convolution FLOPs of one query slice in the official (plain) formulation: every cross conv runs on all S
/// concatenated pairs and every support conv on all S elements, as PyTorch does it.
func plainFLOPs(_ model: UniverSegModel, support s: Int, size: Int) -> Double {
    let enc = model.encoderWidths, dec = model.decoderWidths
    var total = 0.0
    var cq = 1, cs = 2
    for (l, f) in enc.enumerated() {
        let hw = Double((size >> l) * (size >> l))
        total += 2 * 9 * hw * Double(f) * (Double(s) * Double(cq + cs) + Double(f) + Double(s) * Double(f))
        cq = f; cs = f
    }
    for (j, f) in dec.enumerated() {
        let level = enc.count - 2 - j, skip = enc[level]
        let hw = Double((size >> level) * (size >> level))
        total += 2 * 9 * hw * Double(f) * (Double(s) * Double(cq + skip + cs + skip) + Double(f) + Double(s) * Double(f))
        cq = f; cs = f
    }
    return total + 2 * Double(size * size * cq)
}

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted(), n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}

/// CPU seconds used by the whole process so far (all threads): under a loaded machine this is the steadier measure.
func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// A study of `slices` slices and `targets` targets, each target with its own support set (different label
/// thresholds), as the pipeline segments it; one JSON line with the wall time and slices per second.
func studyThroughput(_ model: UniverSegModel, _ o: Options, slices: Int) throws -> String {
    let images = (0 ..< o.support).map { image($0 + 1, o.size) }
    let queries = (0 ..< slices).map { image(1000 + $0, o.size) }
    var checksum: Float = 0
    var prepareTime = 0.0
    let cpu = cpuSeconds()
    let total = try seconds {
        for t in 0 ..< o.targets {
            let threshold = Float(0.5) + 0.1 * Float(t)
            var support: PreparedSupport!
            prepareTime += try seconds {
                support = try model.prepareSupport(images: images, labels: images.map { $0.map { $0 > threshold ? 1 : 0 } },
                                                   size: (o.size, o.size), threads: o.threads)
            }
            // --parallel-queries N: N slices at once, each on --threads threads (the pipeline's lanes).
            let prepared: PreparedSupport = support
            let firsts = Mutex([Float](repeating: 0, count: queries.count))
            let next = Atomic(0), failure = Mutex<UniverSegError?>(nil)
            DispatchQueue.concurrentPerform(iterations: o.parallelQueries) { _ in
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard i < queries.count else { return }
                    do {
                        let p = try model.predictProbabilities(query: queries[i], ensemble: [prepared], threads: o.threads)
                        firsts.withLock { $0[i] = p[0] }
                    } catch {
                        failure.withLock { $0 = error as? UniverSegError ?? UniverSegError("\(error)") }
                        return
                    }
                }
            }
            if let error = failure.withLock({ $0 }) { throw error }
            checksum += firsts.withLock { $0.reduce(0, +) }
        }
    }
    let fields = [
        "\"engine\": \"swift\"", "\"mode\": \"study\"", "\"precision\": \"\(model.precision.rawValue)\"", "\"support\": \(o.support)", "\"size\": \(o.size)",
        "\"threads\": \(o.threads)", "\"parallel_queries\": \(o.parallelQueries)", "\"slices\": \(slices)", "\"targets\": \(o.targets)",
        "\"seconds\": \(String(format: "%.2f", total))", "\"cpu_seconds\": \(String(format: "%.2f", cpuSeconds() - cpu))", "\"prepare_seconds\": \(String(format: "%.2f", prepareTime))",
        "\"slices_per_second\": \(String(format: "%.2f", Double(slices) / total))",
        "\"forwards_per_second\": \(String(format: "%.2f", Double(slices * o.targets) / total))",
        "\"peak_rss_mib\": \(String(format: "%.0f", peakRSSMiB()))", "\"checksum\": \(checksum)",
    ]
    return "{" + fields.joined(separator: ", ") + "}"
}

do {
    let o = try Options(Array(CommandLine.arguments.dropFirst()))
    if !o.gemmShapes.isEmpty {
        for shape in o.gemmShapes {
            let (m, n, k) = (shape[0], shape[1], shape[2])
            let rates = [Precision.fp32, .bf16].map { p in
                "\"\(p.rawValue)_gflops\": " + (KernelTiming.gemmGFLOPS(m: m, n: n, k: k, precision: p).map { String(format: "%.1f", $0) } ?? "null")
            }
            print("{\"m\": \(m), \"n\": \(n), \"k\": \(k), " + rates.joined(separator: ", ") + "}")
        }
        exit(0)
    }
    let model = o.weights.isEmpty
        ? try UniverSegModel.bundledDefault(convolution: o.convolution, precision: o.precision)
        : try UniverSegModel(contentsOf: URL(fileURLWithPath: o.weights), convolution: o.convolution, precision: o.precision)
    if let slices = o.studySlices {
        print(try studyThroughput(model, o, slices: slices))
        exit(0)
    }
    let images = (0 ..< o.support).map { image($0 + 1, o.size) }
    let labels = images.map { $0.map { $0 > 0.6 ? Float(1) : 0 } }
    var support: PreparedSupport!
    let prepare = try seconds {
        support = try model.prepareSupport(images: images, labels: labels, size: (o.size, o.size), threads: o.threads)
    }
    let query = image(0, o.size)
    let first = try model.predictLogits(query: query, support: support, threads: o.threads)  // warm-up: buffers, caches
    if let dump = o.dump {
        try first.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: dump))
    }
    var times: [Double] = [], cpuTimes: [Double] = []
    var checksum: Float = 0
    let prepared: PreparedSupport = support
    for _ in 0 ..< o.queries {
        if o.parallelQueries == 1 {
            let cpu = cpuSeconds()
            times.append(try seconds { checksum += try model.predictLogits(query: query, support: prepared, threads: o.threads)[0] })
            cpuTimes.append(cpuSeconds() - cpu)
        } else {
            let elapsed = seconds {
                DispatchQueue.concurrentPerform(iterations: o.parallelQueries) { _ in
                    _ = try? model.predictLogits(query: query, support: prepared, threads: o.threads)
                }
            }
            times.append(elapsed / Double(o.parallelQueries))
        }
    }
    let best = times.min()!, mean = times.reduce(0, +) / Double(times.count)
    let flops = plainFLOPs(model, support: o.support, size: o.size)
    let fields: [String] = [
        "\"engine\": \"swift\"", "\"convolution\": \"\(o.convolution.rawValue)\"", "\"precision\": \"\(model.precision.rawValue)\"", "\"support\": \(o.support)", "\"size\": \(o.size)", "\"threads\": \(o.threads)", "\"parallel_queries\": \(o.parallelQueries)",
        "\"queries\": \(o.queries)", "\"ms_mean\": \(String(format: "%.1f", mean * 1000))",
        "\"ms_best\": \(String(format: "%.1f", best * 1000))", "\"prepare_ms\": \(String(format: "%.1f", prepare * 1000))",
        "\"peak_rss_mib\": \(String(format: "%.0f", peakRSSMiB()))", "\"plain_gflop\": \(String(format: "%.2f", flops / 1e9))",
        "\"ms_median\": \(String(format: "%.1f", median(times) * 1000))",
        "\"times_ms\": [\(times.map { String(format: "%.1f", $0 * 1000) }.joined(separator: ", "))]",
        "\"cpu_ms\": [\(cpuTimes.map { String(format: "%.1f", $0 * 1000) }.joined(separator: ", "))]",
        "\"checksum\": \(checksum)",
    ]
    print("{" + fields.joined(separator: ", ") + "}")
} catch {
    FileHandle.standardError.write(Data("universeg-bench: \(error)\n".utf8))
    exit(1)
}
