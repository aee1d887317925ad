import Foundation

/// The run's `summary.csv`: one row per study and target, for cohort work in a spreadsheet or pandas. Built from
/// the studies' reports only, so it can be regenerated from the reports on disk at any time.
///
/// Columns, in this order (stable: scripts read them; documented in docs/pipeline-schema.md): study, series,
/// target, value, code_scheme, code_value, code_meaning, voxels, volume_ml, intensity_units, mean, std, min, max,
/// p5, p25, p50, p75, p95, centroid_r_mm, centroid_a_mm, centroid_s_mm, bbox_i_min, bbox_j_min, bbox_k_min,
/// bbox_i_max, bbox_j_max, bbox_k_max, bbox_r_min_mm, bbox_a_min_mm, bbox_s_min_mm, bbox_r_max_mm, bbox_a_max_mm,
/// bbox_s_max_mm, touches_border. An empty target leaves its statistics' cells empty.
public enum StatisticsTable {
    public static let columns = [
        "study", "series", "target", "value", "code_scheme", "code_value", "code_meaning", "voxels", "volume_ml",
        "intensity_units", "mean", "std", "min", "max", "p5", "p25", "p50", "p75", "p95",
        "centroid_r_mm", "centroid_a_mm", "centroid_s_mm",
        "bbox_i_min", "bbox_j_min", "bbox_k_min", "bbox_i_max", "bbox_j_max", "bbox_k_max",
        "bbox_r_min_mm", "bbox_a_min_mm", "bbox_s_min_mm", "bbox_r_max_mm", "bbox_a_max_mm", "bbox_s_max_mm",
        "touches_border",
    ]

    /// One study's lines of the table (no header), targets in report order, with the study and series they sort by.
    struct StudyRows: Sendable {
        var study: String
        var series: String
        var lines: [String]

        init(_ report: StudyReport) {
            study = report.study
            series = report.series
            lines = report.targets.map { StatisticsTable.line(report, $0) }
        }
    }

    /// CSV text (RFC 4180: comma-separated, fields quoted when they hold a comma, quote or line break; CRLF-free)
    /// with a header line, then the reports' targets, studies sorted by name, targets in report order. Numbers are
    /// written in full (Swift's shortest exact form), so the table repeats the reports' values exactly.
    public static func csv(_ reports: [StudyReport]) -> String {
        csv(reports.map(StudyRows.init))
    }

    static func csv(_ studies: [StudyRows]) -> String {
        let lines = [columns.joined(separator: ",")]
            + studies.sorted { ($0.study, $0.series) < ($1.study, $1.series) }.flatMap(\.lines)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func line(_ report: StudyReport, _ target: StudyReport.Target) -> String {
        let s = target.statistics
        let intensity = s.map { i in [i.intensity.mean, i.intensity.std, i.intensity.min, i.intensity.max,
                                      i.intensity.p5, i.intensity.p25, i.intensity.p50, i.intensity.p75,
                                      i.intensity.p95] }
        let cells: [String?] = [
            report.study, report.series, target.name, String(target.value),
            target.code?.scheme, target.code?.value, target.code?.meaning,
            String(target.voxels), number(target.volumeML), report.intensityUnits,
        ] + cellsOrEmpty(intensity?.map(number), 9)
            + cellsOrEmpty(s?.centroidRAS.map(number), 3)
            + cellsOrEmpty(s.map { ($0.boundingBoxVoxels.min + $0.boundingBoxVoxels.max).map { String($0) } }, 6)
            + cellsOrEmpty(s.map { ($0.boundingBoxRAS.min + $0.boundingBoxRAS.max).map(number) }, 6)
            + [s.map { $0.touchesBorder ? "true" : "false" }]
        return cells.map { field($0 ?? "") }.joined(separator: ",")
    }

    private static func number(_ value: Double) -> String { "\(value)" }

    private static func cellsOrEmpty(_ cells: [String]?, _ count: Int) -> [String?] {
        cells ?? [String?](repeating: nil, count: count)
    }

    /// One CSV field, quoted when it needs to be.
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
