import Foundation

extension AnnotateNext {
    /// Tab-separated: per volume the 3D Dice before, after each measure's slices, after the random slices (mean ±
    /// standard deviation over the draws), then the slices picked; a last row of means over volumes, where the
    /// random spread is that of the draws' means (draw d's mean over volumes, d = 1 ... draws).
    public static func text(_ rows: [Row]) -> String {
        guard let first = rows.first else { return "no query volume\n" }
        let f = { (x: Double) in String(format: "%.3f", x) }
        let slices = { (p: Pick) in p.slices.map(String.init).joined(separator: ",") }
        let draws = first.random.count
        var lines = [(["volume", "dice"] + first.measures + ["random (mean ± sd of \(draws))"]
                      + first.measures.map { "\($0) slices" } + ["random slices"]).joined(separator: "\t")]
        for row in rows {
            lines.append(([row.volume, f(row.dice)] + row.leastConfident.map { f($0.dice) }
                          + ["\(f(row.randomMeanDice)) ± \(f(standardDeviation(row.random.map(\.dice))))"]
                          + row.leastConfident.map(slices) + [row.random.map(slices).joined(separator: " | ")])
                .joined(separator: "\t"))
        }
        let mean = { (xs: [Double]) in xs.reduce(0, +) / Double(max(1, xs.count)) }
        let drawMeans = (0..<draws).map { d in mean(rows.map { $0.random[d].dice }) }
        lines.append((["mean (\(rows.count) volumes)", f(mean(rows.map(\.dice)))]
                      + first.measures.indices.map { m in f(mean(rows.map { $0.leastConfident[m].dice })) }
                      + ["\(f(mean(drawMeans))) ± \(f(standardDeviation(drawMeans)))"]).joined(separator: "\t"))
        return lines.joined(separator: "\n") + "\n"
    }

    /// Sample standard deviation; 0 for fewer than two values.
    static func standardDeviation(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return 0 }
        let m = xs.reduce(0, +) / Double(xs.count)
        return (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count - 1)).squareRoot()
    }
}
