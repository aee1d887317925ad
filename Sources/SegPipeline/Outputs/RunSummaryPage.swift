import Foundation

/// The run's index.html: one row per study with its QC image, numbers and links, so a run is checked at a glance.
public enum RunSummaryPage {
    public struct Row: Sendable {
        public var study: String
        public var status: String
        public var detail: String
        /// Paths relative to the output folder.
        public var qcImage: String?
        public var report: String?
        public var targets: [(name: String, volumeML: Double, voxels: Int)]
        public var seconds: Double?
        /// Per target, the least confident slices to annotate next (`StudyReport.annotateNext`).
        public var annotateNext: [String] = []
    }

    /// A row as the page's HTML, with the study and status the page sorts and counts by. Rendered once per study:
    /// a watch rewrites the page after every study, and rendering thousands of rows each time cost it 0.3 s per
    /// study at 5,000 studies.
    struct RenderedRow: Sendable {
        var study: String
        var status: String
        var html: String

        init(_ row: Row) {
            study = row.study
            status = row.status
            let targets = (row.targets.map { "\(esc($0.name)): \(String(format: "%.2f", $0.volumeML)) mL (\($0.voxels))" }
                + row.annotateNext.map { "<small>annotate next: \(esc($0))</small>" })
                .joined(separator: "<br>")
            let report = row.report.map { "<br><a href=\"\(href($0))\">report</a>" } ?? ""
            let image = row.qcImage.map { "<a href=\"\(href($0))\"><img src=\"\(href($0))\" alt=\"QC \(esc(row.study))\"></a>" } ?? ""
            let seconds = row.seconds.map { String(format: "%.1f", $0) } ?? ""
            html = "<tr class=\"\(esc(row.status))\"><td>\(esc(row.study))\(report)</td><td>\(esc(row.status))"
                + (row.detail.isEmpty ? "" : "<br>\(esc(row.detail))") + "</td><td>\(targets)</td><td class=\"num\">\(seconds)</td><td>\(image)</td></tr>\n"
        }
    }

    /// - Parameters:
    ///   - models: the models that made this run's outputs (from the reports), named under the title.
    ///   - notes: lines shown above the table (a sharded run's counts and figures).
    public static func html(pipeline: String, generatedAt: String, rows: [Row], models: [String] = [],
                            notes: [String] = []) -> String {
        html(pipeline: pipeline, generatedAt: generatedAt, rows: rows.map(RenderedRow.init), models: models, notes: notes)
    }

    static func html(pipeline: String, generatedAt: String, rows: [RenderedRow], models: [String] = [],
                            notes: [String] = []) -> String {
        let counts = Dictionary(grouping: rows, by: \.status).mapValues(\.count)
        var out = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(esc(pipeline)): run summary</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
        table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4em .6em;vertical-align:top;text-align:left}
        .failed{background:#fde8e8}.skipped{color:#777}.num{text-align:right;font-variant-numeric:tabular-nums}
        img{max-width:640px;display:block}
        </style></head><body>
        <h1>\(esc(pipeline))</h1>
        <p>\(rows.count) \(rows.count == 1 ? "study" : "studies"): \(counts.sorted { $0.key < $1.key }.map { "\($0.value) \(esc($0.key))" }.joined(separator: ", ")). Generated \(esc(generatedAt)) by \(esc(ToolInfo.version))\(models.isEmpty ? "" : ", model " + models.map(esc).joined(separator: ", ")).</p>
        \(notes.map { "<p>\(esc($0))</p>\n" }.joined())<table><tr><th>study</th><th>status, notes</th><th>targets (mL, voxels)</th><th>time (s)</th><th>QC</th></tr>

        """
        for row in rows.sorted(by: { $0.study < $1.study }) { out += row.html }
        out += "</table></body></html>\n"
        return out
    }

    private static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private static func href(_ path: String) -> String {
        esc(path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path)
    }
}
