"""Report renderers: JSON (validated, atomic), JUnit XML (counts, escaping) and the HTML page
(escaping, numeric marks, embedded images, collapsed cards).

The sample reports in ``tests/data/reports`` were written by hand to look like real
``jupyter repro verify`` output: one notebook that reproduced, one that drifted (numbers
in text, a matplotlib plot with its SSIM heatmap, an exception, a skipped cell, an
environment change) and one that could not be verified.  Outputs carry ``<script>``,
``&``, ANSI colour codes and a control character, because real outputs do.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from repro_jupyter import schema
from repro_jupyter.reports import junit_xml, render_html, write_html, write_json, write_junit
from repro_jupyter.reports.html_diff import NumberMarks, inline_diff

DATA = Path(__file__).parent / "data" / "reports"
HOSTILE = '<script>alert("pwned")</script> & <img src=x onerror=alert(1)>'
HEATMAP = "heatmaps/cell4-out0.png"


def load(name: str) -> dict:
    """A sample report from ``tests/data/reports`` (a fresh copy: tests may mutate it)."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def reports() -> list[dict]:
    return [load("reproduced"), load("drift"), load("error")]


def test_sample_reports_follow_the_schema(reports):
    for report in reports:
        schema.validate("driftReport", report)


# --- JUnit -----------------------------------------------------------------------------------------


def test_junit_has_one_suite_per_notebook_with_the_right_counts(reports):
    root = ET.fromstring(junit_xml(reports))
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["notebooks/eda.ipynb", "notebooks/train.ipynb", "notebooks/broken.ipynb"]
    counts = {
        name: tuple(int(s.get(k)) for k in ("tests", "failures", "errors", "skipped"))
        for name, s in suites.items()
    }
    assert counts == {
        "notebooks/eda.ipynb": (4, 0, 0, 0),
        "notebooks/train.ipynb": (5, 2, 1, 1),
        "notebooks/broken.ipynb": (1, 0, 1, 0),
    }
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "10",
        "2",
        "2",
        "1",
    )
    assert suites["notebooks/train.ipynb"].get("time") == "12.300"

    cases = suites["notebooks/train.ipynb"].findall("testcase")
    assert [c.get("name") for c in cases] == [
        "cell 1 imports",
        "cell 3 fit",
        "cell 5 plot",
        "cell 7 ratio",
        "cell 8 upload",
    ]
    assert {c.get("classname") for c in cases} == {"train"}
    assert (
        cases[1].find("failure").get("message")
        == "3 numbers differ beyond tolerance (max abs 0.1) & 1 line added"
    )
    assert cases[3].find("error") is not None and cases[4].find("skipped") is not None
    assert cases[0].find("failure") is None and cases[0].get("time") == "0.500"

    broken = suites["notebooks/broken.ipynb"].find("testcase")
    assert (
        broken.find("error").get("message")
        == "kernel died while starting: <b>ModuleNotFoundError</b> & no 'torch'"
    )


def test_junit_failure_body_is_readable(reports):
    root = ET.fromstring(junit_xml(reports))
    body = root.find(".//testcase[@name='cell 3 fit']/failure").text
    assert "0.25 -> 0.35  abs 0.1 rel 40%" in body
    assert "0.80  package_change: numpy 2.3.0 -> 2.4.6 (imported)" in body
    assert body.index("package_change") < body.index("unseeded_randomness")  # ranked by score
    assert "+warning: fell back to CPU" in body and "variables: model, losses" in body
    assert "flaky" in body and "history = fit(model, data)" in body
    props = {
        p.get("name"): p.get("value")
        for p in root.findall(".//testsuite[@name='notebooks/train.ipynb']//property")
    }
    assert props["environment.packages.numpy"] == "2.3.0 -> 2.4.6"
    assert props["option.rtol"] == "1e-05"


def test_junit_escapes_untrusted_text_and_drops_what_xml_cannot_hold(reports):
    text = junit_xml(reports)
    assert "<script>" not in text and "<img src=x" not in text
    assert "&lt;script&gt;" in text and "&amp;" in text
    assert "\x1b" not in text and "\x07" not in text
    root = ET.fromstring(text)  # a strict parser accepts it
    failure = root.find(".//testcase[@name='cell 3 fit']/failure").text
    assert HOSTILE in failure
    error = root.find(".//testcase[@name='cell 7 ratio']/error")
    assert error.get("message").startswith("ZeroDivisionError: division by zero")


def test_nul_bytes_and_lone_surrogates_neither_break_the_xml_nor_the_html(tmp_path):
    report = load("drift")
    report["cells"][1]["differences"][0]["new"] += "\x00 bad \ud800 bytes"
    ET.fromstring(junit_xml(report))
    write_html(report, tmp_path / "report.html")  # encodes as UTF-8 without error
    assert " bad  bytes" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_write_junit_replaces_the_file_atomically(tmp_path, reports):
    target = tmp_path / "out" / "junit.xml"
    target.parent.mkdir()
    target.write_text("stale")
    target.chmod(0o640)
    write_junit(reports, target)
    assert ET.parse(target).getroot().get("tests") == "10"
    assert [p.name for p in target.parent.iterdir()] == ["junit.xml"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file's mode is kept
    write_junit(reports, tmp_path / "new" / "junit.xml")
    assert stat.S_IMODE((tmp_path / "new" / "junit.xml").stat().st_mode) == 0o644  # not mkstemp's 0600


def test_junit_accepts_a_single_report_and_no_reports():
    assert ET.fromstring(junit_xml(load("reproduced"))).get("tests") == "4"
    assert ET.fromstring(junit_xml([])).get("tests") == "0"


# --- JSON ------------------------------------------------------------------------------------------


def test_write_json_validates_then_writes_stable_json(tmp_path, reports):
    one, many = tmp_path / "one.json", tmp_path / "many.json"
    write_json(reports[1], one)
    write_json(reports, many)
    assert json.loads(one.read_text()) == reports[1]
    assert json.loads(many.read_text()) == reports
    assert one.read_text() == json.dumps(reports[1], indent=1, sort_keys=True) + "\n"

    bad = {**reports[0], "status": "fine"}
    with pytest.raises(jsonschema.ValidationError):
        write_json([reports[1], bad], tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.json", "one.json"]


# --- HTML ------------------------------------------------------------------------------------------


@pytest.fixture
def page(tmp_path, reports) -> str:
    shutil.copytree(DATA / "heatmaps", tmp_path / "heatmaps")
    target = tmp_path / "report.html"
    write_html(reports, target)
    return target.read_text(encoding="utf-8")


def test_html_escapes_every_output(page):
    assert page.count("<script>") == 1  # the page's own filter script, nothing from an output
    assert "<img src=x" not in page and "<b>ModuleNotFoundError" not in page
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;img src=x" in page
    assert "&lt;b&gt;ModuleNotFoundError&lt;/b&gt; &amp; no &#x27;torch&#x27;" in page
    assert "\x1b" not in page and "\x07" not in page


def test_html_is_self_contained(page):
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert links and all(link.startswith(("data:image/png;base64,", "#")) for link in links)
    assert "<link" not in page and "@import" not in page and "url(" not in page


def test_html_marks_numbers_that_moved_with_their_delta(page):
    assert '<mark class="moved" title="abs 0.1, rel 40%">0.25</mark>' in page
    assert '<mark class="moved" title="abs 0.1, rel 40%">0.35</mark>' in page
    assert '<mark class="moved" title="abs 0.02, rel 4%">0.52</mark>' in page
    # within tolerance is marked too, in its own colour; float noise as the ratio (figures.py), not 1.9e-14%
    assert '<mark class="tol" title="abs 5.6e-17, rel 1.9e-16">0.30000000000000004</mark>' in page
    # unchanged numbers on a changed line are not marked
    assert '<mark class="moved" title="abs 0, rel 0%">0.5</mark>' not in page


def test_inline_diff_marks_only_the_changed_tokens():
    marks = NumberMarks(deltas={("0.25", "0.35"): {"abs": 0.1, "rel": 0.4, "exact": False}})
    old, new = inline_diff("loss 0.25 acc 0.9 (gpu)", "loss 0.35 acc 0.9 (cpu)", marks)
    mark = '<mark class="moved" title="abs 0.1, rel 40%">'
    assert old == f'loss {mark}0.25</mark> acc 0.9 (<span class="del">gpu</span>)'
    assert new == f'loss {mark}0.35</mark> acc 0.9 (<span class="ins">cpu</span>)'
    # a pair the producer did not list still gets a computed delta; integers must match exactly
    _, new = inline_diff("n=10", "n=11", NumberMarks())
    assert '<mark class="moved" title="abs 1, rel 10% (integers must match)">11</mark>' in new


def test_html_embeds_both_images_and_the_heatmap(page, reports):
    uris = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert [alt for alt, _ in uris] == ["recorded", "new", "difference heatmap"]
    image = reports[1]["cells"][2]["differences"][0]["image"]
    assert [uri for _, uri in uris[:2]] == [image["old_png"], image["new_png"]]
    assert base64.b64decode(uris[2][1]) == (DATA / HEATMAP).read_bytes()
    assert "SSIM <b>0.9300</b> &lt; threshold 0.99" in page
    # without a directory to resolve it against, the heatmap is left out (never fetched)
    assert render_html(reports).count("difference heatmap") == 0


def test_html_refuses_heatmaps_outside_its_directory_and_non_png_images(tmp_path):
    report = load("drift")
    image = report["cells"][2]["differences"][0]["image"]
    (tmp_path / "secret.png").write_bytes((DATA / HEATMAP).read_bytes())
    image["heatmap"] = "../secret.png"
    image["new_png"] = base64.b64encode(b"GIF89a not a png").decode("ascii")
    schema.validate("driftReport", report)
    html = render_html(report, base_dir=tmp_path / "site")
    assert "difference heatmap" not in html
    assert html.count("data:image/png") == 1 and "not available" in html


def test_html_collapses_reproduced_cells_and_opens_the_rest(page):
    opened = dict(re.findall(r'<details class="cell st-\w+" id="(nb\d+-cell\d+)"( open)?>', page))
    assert opened["nb0-cell1"] == "" and opened["nb0-cell4"] == ""  # same, benign
    assert opened["nb0-cell5"] == " open"  # within tolerance
    assert opened["nb1-cell0"] == ""
    assert all(opened[f"nb1-cell{i}"] == " open" for i in (2, 4, 6, 7))


def test_html_header_links_the_first_drift_and_tabulates_the_environment(page):
    assert '<span class="badge b-reproduced">reproduced</span>' in page
    assert '<span class="badge b-drift">drift</span>' in page
    assert '<span class="badge b-error-nb">could not verify</span>' in page
    assert 'first drift: <a href="#nb1-cell2">cell 3 fit</a>' in page
    assert 'id="nb1-cell2"' in page
    assert (
        '<tr><td>packages</td><td class="mono">numpy</td><td class="mono old">2.3.0</td>'
        '<td class="mono new">2.4.6</td></tr>'
    ) in page
    assert "<li><b>2</b> drift</li>" in page
    # causes ranked by score, the score drawn as a bar
    assert page.index("package change") < page.index("unseeded randomness")
    assert 'style="width:80%"' in page


def test_html_side_by_side_shows_added_lines_and_folds_unchanged_runs():
    report = load("drift")
    diff = report["cells"][1]["differences"][0]
    diff["old"] = "\n".join(f"line {i}" for i in range(40)) + "\nend 1.0"
    diff["new"] = "\n".join(f"line {i}" for i in range(40)) + "\nend 2.0\nextra"
    html = render_html(report)
    assert "⋯ 37 unchanged lines" in html
    assert '<td class="r"><span class="ins">extra</span></td>' in html
