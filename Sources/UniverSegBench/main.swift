// Times the engine on one support size and prints one JSON line (scripts/benchmark.sh builds the table).
// Usage: universeg-bench --weights FILE [--support 16] [--size 128] [--queries 5] [--threads 2]
//        [--convolution direct|winograd2x2|winograd4x4] [--dump LOGITS.f32] [--parallel-queries N]
// --parallel-queries N runs N queries at once (each with --threads threads) and reports wall time per slice:
// the throughput a pipeline gets by overlapping slices instead of splitting each one across threads.
import Foundation
import Glibc
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
        guard !weights.isEmpty else { throw UniverSegError("--weights FILE is required") }
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

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

do {
    let o = try Options(Array(CommandLine.arguments.dropFirst()))
    let model = try UniverSegModel(contentsOf: URL(fileURLWithPath: o.weights), convolution: o.convolution)
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
    var times: [Double] = []
    var checksum: Float = 0
    let prepared: PreparedSupport = support
    for _ in 0 ..< o.queries {
        if o.parallelQueries == 1 {
            times.append(try seconds { checksum += try model.predictLogits(query: query, support: prepared, threads: o.threads)[0] })
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
        "\"engine\": \"swift\"", "\"convolution\": \"\(o.convolution.rawValue)\"", "\"support\": \(o.support)", "\"size\": \(o.size)", "\"threads\": \(o.threads)", "\"parallel_queries\": \(o.parallelQueries)",
        "\"queries\": \(o.queries)", "\"ms_mean\": \(String(format: "%.1f", mean * 1000))",
        "\"ms_best\": \(String(format: "%.1f", best * 1000))", "\"prepare_ms\": \(String(format: "%.1f", prepare * 1000))",
        "\"peak_rss_mib\": \(String(format: "%.0f", peakRSSMiB()))", "\"plain_gflop\": \(String(format: "%.2f", flops / 1e9))",
        "\"checksum\": \(checksum)",
    ]
    print("{" + fields.joined(separator: ", ") + "}")
} catch {
    FileHandle.standardError.write(Data("universeg-bench: \(error)\n".utf8))
    exit(1)
}
