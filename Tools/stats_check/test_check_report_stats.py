"""The statistics of a real run's report (Tests/SegPipelineTests/Fixtures/statistics-run: `universeg run` of its
pipeline.yaml on tiny.nii.gz, a LAS int16 image with scl_slope 0.5 and scl_inter -100) agree with nibabel + numpy,
and summary.csv repeats them; a tampered report is caught."""
import json
import pathlib

import check_report_stats

FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "Tests/SegPipelineTests/Fixtures/statistics-run"


def paths():
    return (FIXTURE / "tiny_report.json", FIXTURE / "tiny_seg.nii.gz", FIXTURE / "tiny.nii.gz")


def test_the_report_matches_numpy_and_the_summary():
    report = json.loads(paths()[0].read_text())
    assert [t["name"] for t in report["targets"]] == ["disc", "edge"]
    assert all(t["statistics"] for t in report["targets"])      # both non-empty: the check compares numbers
    assert check_report_stats.check(*paths(), summary_path=FIXTURE / "summary.csv") == []


def test_a_tampered_report_is_caught(tmp_path):
    report = json.loads(paths()[0].read_text())
    report["targets"][0]["statistics"]["intensity"]["p75"] += 0.5
    report["targets"][1]["statistics"]["centroidRAS"][0] *= -1       # a sign slip (LPS instead of RAS)
    report["targets"][1]["statistics"]["touchesBorder"] = False
    tampered = tmp_path / "report.json"
    tampered.write_text(json.dumps(report))
    problems = check_report_stats.check(tampered, *paths()[1:])
    assert [p.split(":")[0] for p in problems] == ["disc.intensity.p75", "edge.centroidRAS[0]", "edge.touchesBorder"]
