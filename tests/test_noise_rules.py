"""Text noise rules (issue 12): what may be called noise, and what must stay a result.

Old strings are real outputs stored in the corpus notebooks (``pdsh_02.03``, ``pdsh_02.09``,
``pdsh_04.00``, ``mrd_01_workflow``, nbval's ``sample_notebook``); new ones are what today's
IPython, pandas and ``ls`` print.  The end-to-end test runs a real kernel.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from repro_jupyter.compare.normalize import compile_rules, normalize_text, output_digests
from repro_jupyter.compare.outputs import compare_outputs
from repro_jupyter.compare.rules import CompareOptions, RunWindows
from repro_jupyter.compare.text import compare_texts
from repro_jupyter.environment import system
from repro_jupyter.environment.diff import environment_diff
from repro_jupyter.verify import VerifyOptions, verify_notebook

from .conftest import cli, make_notebook

RULES = compile_rules()
NOW = time.time()
NEW_WINDOW = (NOW - 120.0, NOW)  # the verify run: the last two minutes
OLD_WINDOW = (NOW - 86400.0 - 120.0, NOW - 86400.0)  # the recorded run: yesterday, same time
RECORDED = CompareOptions(run_windows=RunWindows(new=NEW_WINDOW, old=OLD_WINDOW))
UNRECORDED = CompareOptions(run_windows=RunWindows(new=NEW_WINDOW, old=None))  # old window unknown
NO_WINDOWS = CompareOptions()


def _at(stamp: float, fmt: str) -> str:
    return datetime.fromtimestamp(stamp).strftime(fmt)


def _cmp(old: str, new: str, opts: CompareOptions = RECORDED) -> tuple[str, str]:
    severity, diff = compare_texts(old, new, opts, RULES)
    return severity, diff.get("detail", "")


# ---------------------------------------------------------------- 1. %timeit / %time

# stored in the corpus (IPython 6/7: micro sign, no thousands separators)
PDSH_0203_CELL5 = "2.61 s ± 192 ms per loop (mean ± std. dev. of 7 runs, 1 loop each)\n"
PDSH_0203_CELL10 = "2.54 ms ± 383 µs per loop (mean ± std. dev. of 7 runs, 100 loops each)\n"
PDSH_0209_CELL35 = (
    "121 ns ± 1.4 ns per loop (mean ± std. dev. of 7 runs, 1000000 loops each)\n"
    "2.41 µs ± 15.7 ns per loop (mean ± std. dev. of 7 runs, 100000 loops each)\n"
    "3.98 µs ± 20.5 ns per loop (mean ± std. dev. of 7 runs, 100000 loops each)\n"
)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (PDSH_0203_CELL5, "1min 3s ± 2.1 s per loop (mean ± std. dev. of 7 runs, 1 loop each)\n"),
        (PDSH_0203_CELL10, "1.23 ms ± 4.5 μs per loop (mean ± std. dev. of 7 runs, 1,000 loops each)\n"),
        (
            PDSH_0209_CELL35,
            "98.2 ns ± 0.51 ns per loop (mean ± std. dev. of 7 runs, 10,000,000 loops each)\n"
            "1.9 μs ± 12 ns per loop (mean ± std. dev. of 7 runs, 1,000,000 loops each)\n"
            "4.1 us ± 1e+03 ns per loop (mean ± std. dev. of 1 run, 100,000 loops each)\n",
        ),
        ("100 loops, best of 3: 2.1 ms per loop\n", PDSH_0203_CELL10),  # IPython < 5
        ("10000 loops, best of 3: 72.8 µs per loop\n", "1000 loops, best of 3: 1.01 s per loop\n"),
        (
            PDSH_0203_CELL10,
            "The slowest run took 4.52 times longer than the fastest. This could mean that an "
            "intermediate result is being cached.\n" + PDSH_0203_CELL10.replace("2.54", "3.1"),
        ),
        (
            "CPU times: user 1.2 ms, sys: 0 ns, total: 1.2 ms\nWall time: 2 ms\n",
            "CPU times: user 3.1 s, sys: 12.5 μs, total: 3.1 s\nWall time: 1min 2s\n",
        ),
        ("CPU times: total: 1.2 ms\nWall time: 2.01 s\n", "CPU times: total: 9 ns\nWall time: 4 µs\n"),
    ],
)
def test_timeit_and_time_lines_in_every_format_are_noise(old, new):
    assert _cmp(old, new)[0] == "benign"
    assert _cmp(old, new, NO_WINDOWS)[0] == "benign"  # no clock: needs no window


def test_only_timing_lines_are_neutralised_the_rest_is_compared():
    old = (
        "total 4950\n"
        + PDSH_0209_CELL35
        + "CPU times: user 1 ms, sys: 0 ns, total: 1 ms\nWall time: 2 ms\nbest 0.25"
    )
    new = (
        "total 4951\n"
        + PDSH_0209_CELL35.replace("121 ns", "98 ns").replace("1000000", "10,000,000")
        + "CPU times: user 2 ms, sys: 0 ns, total: 2 ms\nWall time: 3 ms\nbest 0.25"
    )
    severity, detail = _cmp(old, new)
    assert severity == "drift"
    assert "4950 -> 4951" in detail
    severity, detail = _cmp(old, new.replace("4951", "4950").replace("best 0.25", "best 0.35"))
    assert severity == "drift" and "0.25 -> 0.35" in detail


def test_timeit_lookalikes_are_not_eaten():
    """A line that only mentions loops is a result (the old repr rule ate any '... loops ... per loop')."""
    old, new = "3 loops, 2 per loop\n", "3 loops, 5 per loop\n"
    assert _cmp(old, new)[0] == "drift"


# ---------------------------------------------------------------- 2. ls -l of files the run wrote

MRD_LS = "-rw-rw-r-- 1 daniel daniel 1063 Nov 10 16:07 models/01_pytorch_workflow_model_0.pth\r\n"
PDSH_0400_LS = "-rw-r--r--  1 jakevdp  staff    26K Feb  1 06:15 my_figure.png\n"


def _ls(stamp: float, size: str = "1207", name: str = "models/01_pytorch_workflow_model_0.pth") -> str:
    return f"-rw-rw-r-- 1 root root {size} {_at(stamp, '%b %e %H:%M')} {name}\r\n"


def test_listing_of_a_file_the_run_wrote_is_noise_mtime_and_size():
    # the corpus notebook was never recorded by us: its old window is unknown, the old mtime earlier;
    # its stored size comes from another environment (torch 1.12 wrote 1063 bytes, 2.13 writes 2117)
    assert _cmp(MRD_LS, _ls(NOW - 30), UNRECORDED) == (
        "benign",
        "differs only in benign noise (the runs' own clock, listings of files the run wrote, line endings)",
    )
    new = f"-rw-r--r-- 1 root root 25K {_at(NOW - 30, '%b %e %H:%M')} my_figure.png\r\n"
    assert _cmp(PDSH_0400_LS, new, UNRECORDED)[0] == "benign"
    # `ls -l models/`: the total goes with its lines when every listed file is the run's own
    assert _cmp("total 8\n" + MRD_LS, "total 12\n" + _ls(NOW - 30, size="9000"), UNRECORDED)[0] == "benign"


def test_listing_of_a_file_a_recorded_run_wrote_masks_its_mtime_and_compares_its_size():
    """Recorded by us (both windows known): in one environment a seeded run writes the same bytes
    (mrd_01_workflow's models/*.pth had equal sha256 over two runs), so the size is a result."""
    old = _ls(OLD_WINDOW[0] + 60)
    assert _cmp(old, _ls(NOW - 30))[0] == "benign"
    assert _cmp(old, _ls(NOW - 30, size="1100"))[0] == "drift"
    iso_old = f"-rw-r--r-- 1 me me 1063 {_at(OLD_WINDOW[0] + 5, '%Y-%m-%d %H:%M')} model.pth"
    iso_new = f"-rw-r--r-- 1 me me 1063 {_at(NOW - 5, '%Y-%m-%d %H:%M')} model.pth"
    assert _cmp(iso_old, iso_new)[0] == "benign"
    assert _cmp(iso_old, iso_new.replace("1063", "1100"))[0] == "drift"
    assert _cmp("total 8\n" + old, "total 8\n" + _ls(NOW - 30))[0] == "benign"
    assert _cmp("total 8\n" + old, "total 12\n" + _ls(NOW - 30))[0] == "drift"


def test_listing_of_a_file_the_run_did_not_write_is_compared():
    last_year = NOW - 300 * 86400
    old, new = _ls(last_year, size="1063"), _ls(last_year, size="1207")
    assert _cmp(old, new)[0] == "drift"  # an input file changed size: a result
    # the mtime is the run's own, but the listing names another file / other permissions
    assert _cmp(_ls(OLD_WINDOW[0] + 60), _ls(NOW - 30, name="models/other.pth"))[0] == "drift"
    changed_mode = _ls(NOW - 30).replace("-rw-rw-r--", "-rwxrwxr-x")
    assert _cmp(_ls(OLD_WINDOW[0] + 60), changed_mode)[0] == "drift"
    # an mtime in the new window paired with an old one outside the recorded window: compared
    assert _cmp(_ls(OLD_WINDOW[0] - 7 * 86400), _ls(NOW - 30))[0] == "drift"
    # a listing with a file the run did not write keeps its total
    mixed_old = "total 8\n" + _ls(OLD_WINDOW[0] + 60) + _ls(last_year, name="data.csv")
    mixed_new = "total 12\n" + _ls(NOW - 30) + _ls(last_year, name="data.csv")
    assert _cmp(mixed_old, mixed_new)[0] == "drift"


# ---------------------------------------------------------------- 3. rules that ate results


@pytest.mark.parametrize("opts", [RECORDED, UNRECORDED, NO_WINDOWS])
def test_computed_dates_and_hex_values_are_results(opts):
    assert _cmp("peak on 2024-01-28", "peak on 2024-01-12", opts)[0] == "drift"
    assert _cmp("mask 0xdeadbeef04", "mask 0xdeadbeef00", opts)[0] == "drift"
    assert _cmp("first sale 2023-03-01 09:15:00", "first sale 2023-03-02 09:15:00", opts)[0] == "drift"
    assert _cmp("opens at 09:15:00", "opens at 10:15:00", opts)[0] == "drift"
    assert (
        _cmp("datetime.datetime(2020, 1, 1, 0, 0)", "datetime.datetime(2020, 1, 2, 0, 0)", opts)[0] == "drift"
    )
    assert _cmp("mean trip duration 12.3 min", "mean trip duration 14.1 min", opts)[0] == "drift"


def test_object_addresses_are_noise_in_their_contexts_only():
    assert _cmp("<matplotlib.legend.Legend at 0x7fae26a349b0>", "<matplotlib.legend.Legend at 0x7f00aa12>")[
        0
    ] == ("benign")
    assert (
        _cmp("<__main__.Foo object at 0x10a2b3c4d>", "<__main__.Foo object at 0x7f99887766>")[0] == "benign"
    )
    assert (
        _cmp(
            "<cdata 'int *' owning 4 bytes 0x55d0c3a0aa10>", "<cdata 'int *' owning 4 bytes 0x55e1aa0b2c30>"
        )[0]
        == "benign"
    )
    assert _cmp("<cdata 'int *' owning 4 bytes 0x55d0c3a0>", "<cdata 'int *' owning 8 bytes 0x55e1aa0b>")[
        0
    ] == ("drift")
    assert _cmp("hash 0xdeadbeef04 <ok>", "hash 0xdeadbeef00 <ok>")[0] == "drift"  # not inside the <...>


def test_the_runs_own_clock_is_noise_when_it_pairs_across_windows():
    old_now, new_now = OLD_WINDOW[0] + 30, NOW - 30
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%a %b %d %H:%M:%S %Y", "%H:%M:%S", "%Y-%m-%d"):
        old, new = f"started {_at(old_now, fmt)}\nloss 0.25", f"started {_at(new_now, fmt)}\nloss 0.25"
        assert _cmp(old, new)[0] == "benign", fmt
        assert _cmp(old, new, NO_WINDOWS)[0] == "drift", fmt  # no windows: a clock is compared as text
        # the new clock lies outside the new run (a computed "yesterday"): compared
        assert _cmp(old, f"started {_at(NOW - 3 * 86400 - 5 * 3600, fmt)}\nloss 0.25")[0] == "drift", fmt
    utc = datetime.fromtimestamp(new_now, timezone.utc).isoformat()
    old_utc = datetime.fromtimestamp(old_now, timezone.utc).isoformat()
    assert _cmp(f"at {old_utc}", f"at {utc}")[0] == "benign"
    # repr(datetime.now()): nbval's sample_notebook cells 5-8 (stored 2018)
    old_repr = "datetime.datetime(2018, 6, 1, 12, 33, 8, 310117)"
    new_dt = datetime.fromtimestamp(new_now)
    assert _cmp(old_repr, repr(new_dt), UNRECORDED)[0] == "benign"
    assert _cmp(old_repr, repr(new_dt))[0] == "drift"  # a recorded run yesterday did not print 2018


def test_nbval_last_executed_passes_for_an_unrecorded_notebook():
    old = "'Last executed: 2018-06-01, 12:33:15'"  # nbval tests/sample_notebook.ipynb, cell 11
    new = _at(NOW - 5, "'Last executed: %Y-%m-%d, %H:%M:%S'")
    assert _cmp(old, new, UNRECORDED)[0] == "benign"
    assert _cmp(old, new, RECORDED)[0] == "drift"  # our record says the old run was yesterday
    assert _cmp(new, old, UNRECORDED)[0] == "drift"  # the new run cannot print 2018


def test_clocks_pair_positionally_and_a_drifted_value_beside_them_is_named():
    old_t, new_t = (
        _at(OLD_WINDOW[0] + 10, "%Y-%m-%d %H:%M:%S,%f")[:-3],
        _at(NOW - 10, "%Y-%m-%d %H:%M:%S,%f")[:-3],
    )
    old = f"{old_t} - INFO - epoch 1 loss 0.52\n{old_t} - INFO - epoch 2 loss 0.41\n"
    new = f"{new_t} - INFO - epoch 1 loss 0.52\n{new_t} - INFO - epoch 2 loss 0.47\n"
    severity, detail = _cmp(old, new)
    assert severity == "drift" and "0.41 -> 0.47" in detail
    assert _cmp(old, old.replace(old_t, _at(OLD_WINDOW[0] + 50, "%Y-%m-%d %H:%M:%S,%f")[:-3]))[0] == "drift"
    assert _cmp(old, new.replace("0.47", "0.41"))[0] == "benign"
    # an extra line does not shift the pairing of the others
    extra = new.replace("0.47", "0.41") + "done\n"
    severity, detail = _cmp(old, extra)
    assert severity == "drift" and "done" in detail and "INFO" not in detail


def test_durations_in_progress_and_log_lines_are_noise_but_their_results_are_not():
    old = "100%|██████████| 10/10 [00:05<00:00,  1.91it/s, loss=0.512]"
    assert _cmp(old, "100%|██████████| 10/10 [00:03<00:00,  3.01it/s, loss=0.512]")[0] == "benign"
    assert _cmp(old, "100%|██████████| 10/10 [00:03<00:00,  3.01it/s, loss=0.612]")[0] == "drift"
    assert _cmp(old.replace("1.91it/s", "1.23s/it"), old.replace("1.91it/s", "2.5s/it"))[0] == "benign"
    keras_old = "10/10 [==============================] - 1s 35ms/step - loss: 0.5012"
    keras_new = "10/10 [==============================] - 2s 61ms/step - loss: 0.5012"
    assert _cmp(keras_old, keras_new)[0] == "benign"
    assert _cmp(keras_old, keras_new.replace("0.5012", "0.6012"))[0] == "drift"
    assert _cmp("Train time on cpu: 12.345 seconds", "Train time on cpu: 9.1 seconds")[0] == "benign"
    assert _cmp("training took 3.2 s", "training took 4.0 s")[0] == "benign"
    warning = "/tmp/ipykernel_{}/2837462.py:1: Pandas4Warning: inplace"
    assert _cmp(warning.format(1234), warning.format(98765))[0] == "benign"


def test_digests_need_no_window_and_stay_stable_without_clocks():
    """The kernel digests outputs with the same table: identical runs give identical digests."""
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": PDSH_0203_CELL10 + "<Foo object at 0x7f01>\n"},
        {
            "output_type": "execute_result",
            "data": {"text/plain": "<matplotlib.legend.Legend at 0x7fae26a349b0>"},
        },
    ]
    again = [
        {
            "output_type": "stream",
            "name": "stdout",
            "text": PDSH_0203_CELL10.replace("2.54", "2.9") + "<Foo object at 0x7f99>\n",
        },
        {
            "output_type": "execute_result",
            "data": {"text/plain": "<matplotlib.legend.Legend at 0x7f0000a349b0>"},
        },
    ]
    assert output_digests(outputs) == output_digests(again)
    changed = [{**outputs[0], "text": "peak on 2024-01-12\n"}, outputs[1]]
    assert output_digests([{**outputs[0], "text": "peak on 2024-01-28\n"}, outputs[1]]) != output_digests(
        changed
    )
    assert normalize_text("peak on 2024-01-28, mask 0xdeadbeef04") == "peak on 2024-01-28, mask 0xdeadbeef04"


# ---------------------------------------------------------------- 4. rich mimetypes


def _bundle(html: str, plain: str = "<pandas table>") -> list[dict]:
    return [
        {"output_type": "execute_result", "data": {"text/html": html, "text/plain": plain}, "metadata": {}}
    ]


def _styled_html(values: list[float]) -> str:
    """A pandas Styler table rendered in a fresh process (each render draws a new ``T_<uuid>``)."""
    code = (
        "import pandas as pd, sys; v = [float(x) for x in sys.argv[1:]]\n"
        "print(pd.DataFrame({'acc': v}).style.highlight_max().format(repr).to_html())"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *map(repr, values)], capture_output=True, text=True, check=True
    ).stdout


def test_html_ids_are_noise_and_numbers_inside_html_keep_their_tolerance():
    pytest.importorskip("pandas")
    first, second = _styled_html([0.91, 0.3]), _styled_html([0.91, 0.3])
    assert first != second  # the Styler uuid really differs between runs
    assert compare_outputs(_bundle(first), _bundle(second), RECORDED, RULES).status == "benign"
    assert output_digests(_bundle(first)) == output_digests(_bundle(second))
    drifted = compare_outputs(_bundle(first), _bundle(_styled_html([0.51, 0.3])), RECORDED, RULES)
    assert drifted.status == "drift"
    assert "0.91 -> 0.51" in drifted.differences[0]["detail"]
    tiny = compare_outputs(
        _bundle(_styled_html([0.91, 0.30000000000000004])),
        _bundle(_styled_html([0.91, 0.3])),
        RECORDED,
        RULES,
    )
    assert tiny.status == "within_tolerance", tiny.differences


def test_plotly_and_altair_div_ids_are_noise_but_their_data_is_compared():
    def plotly(uid: str, y: str) -> str:
        return (
            f'<div>  <div id="{uid}" class="plotly-graph-div" style="height:100%; width:100%;"></div>'
            f'<script type="text/javascript">Plotly.newPlot("{uid}", [{{"y": [{y}], "type": "scatter"}}])'
            "</script></div>"
        )

    a, b = "a9c0b0a2-51e4-4d0a-8b6f-0f1e2d3c4b5a", "17d2e3f4-0a1b-4c2d-9e3f-4a5b6c7d8e9f"
    assert compare_outputs(
        _bundle(plotly(a, "1, 2.5")), _bundle(plotly(b, "1, 2.5")), RECORDED, RULES
    ).status == ("benign")
    assert compare_outputs(
        _bundle(plotly(a, "1, 2.5")), _bundle(plotly(b, "1, 2.7")), RECORDED, RULES
    ).status == ("drift")
    alt = '<div id="altair-viz-{}"></div><script>vegaEmbed("#altair-viz-{}", {{"data": [0.5]}})</script>'
    h1, h2 = "3f9a1c0e8b7d4e2fa6c5b4a3928170ff", "0b1c2d3e4f5a4b6c8d7e9f0a1b2c3d4e"
    assert compare_outputs(
        _bundle(alt.format(h1, h1)), _bundle(alt.format(h2, h2)), RECORDED, RULES
    ).status == ("benign")
    # a uuid in plain text may be a seeded value: compared
    assert _cmp("run id 3f9a1c0e-8b7d-4e2f-a6c5-b4a3928170ff", "run id 0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e")[
        0
    ] == ("drift")


# ---------------------------------------------------------------- 5. unordered environment facts


def test_thread_pools_and_cpu_flags_compare_as_sets():
    pytest.importorskip("numpy")
    pytest.importorskip("threadpoolctl")
    import numpy  # noqa: F401  (loads the BLAS whose pool is listed)
    import threadpoolctl  # noqa: F401

    threads = system.threads_info()
    pools = threads.get("threadpools") or []
    if len(pools) < 2:  # one BLAS only: make the list two long so its order can change
        pools = pools + [
            {"internal_api": "openmp", "version": None, "num_threads": 2, "threading_layer": None}
        ]
    old = {"threads": {**threads, "threadpools": pools}, "cpu": system.cpu_info()}
    new = {
        "threads": {**threads, "threadpools": list(reversed(pools))},
        "cpu": {**old["cpu"], "flags": list(reversed(old["cpu"]["flags"]))},
    }
    assert environment_diff(old, new) == {}
    more = [
        dict(p, num_threads=(p.get("num_threads") or 1) + 3) if i == 0 else p for i, p in enumerate(pools)
    ]
    changed = {**new, "threads": {**threads, "threadpools": list(reversed(more))}}
    diff = environment_diff(old, changed)
    assert [c["key"] for c in diff["threads"]] == ["threadpools"]


# ---------------------------------------------------------------- 6. the headline names the worst


def test_headline_names_the_drift_not_the_noise_around_it():
    old_t, new_t = _at(OLD_WINDOW[0] + 10, "%H:%M:%S"), _at(NOW - 10, "%H:%M:%S")
    old = (
        f"{PDSH_0203_CELL10}started {old_t}\n<Foo object at 0x7f0011aa>\nloss 0.30000000000000004\nacc 0.91\n"
    )
    new = (
        PDSH_0203_CELL10.replace("2.54", "1.1")
        + f"started {new_t}\n<Foo object at 0x7f9922bb>\nloss 0.3\nacc 0.51\n"
    )
    severity, detail = _cmp(old, new)
    assert severity == "drift" and "0.91 -> 0.51" in detail
    # a changed word beside a number within tolerance: the word heads the report
    severity, detail = _cmp("loss 0.30000000000000004\nmodel resnet", "loss 0.3\nmodel vgg\nextra")
    assert severity == "drift" and "resnet" in detail and "loss" not in detail


# ---------------------------------------------------------------- end to end, real kernel


def test_a_notebook_with_timings_clocks_and_its_own_files_reproduces_and_a_changed_date_drifts(tmp_path):
    src = make_notebook(
        tmp_path / "noise.ipynb",
        [
            "import datetime, logging, pathlib, sys\n"
            "fmt = '%(asctime)s - %(levelname)s - %(message)s'\n"
            "logging.basicConfig(stream=sys.stdout, format=fmt, force=True)",
            "%timeit -n 3 -r 2 sum(range(1000))\n%time total = sum(range(1000))\nprint(total)",
            "pathlib.Path('models').mkdir(exist_ok=True)\n"
            "pathlib.Path('models/m.bin').write_bytes(b'x' * 1000);  # a new mtime on every run",
            "!ls -l models/",
            "print('Last executed:', datetime.datetime.now())\nlogging.warning('loss %.3f', 0.25)",
            "print('peak on', datetime.date(2024, 1, 28))",
            "class Foo: pass\nFoo()",
        ],
    )
    assert cli("run", src, "-q") == 0
    report = verify_notebook(src, VerifyOptions(timeout=120))
    assert report["status"] == "reproduced", [
        (c["index"], c["status"], c.get("differences")) for c in report["cells"]
    ]
    statuses = {c["index"]: c["status"] for c in report["cells"]}
    assert statuses[1] in ("same", "benign") and statuses[3] in ("same", "benign") and statuses[4] == "benign"
    # a computed date that changed is drift, never noise
    import nbformat

    nb = nbformat.read(src, 4)
    nb.cells[5].source = "print('peak on', datetime.date(2024, 1, 12))"
    nb.cells[5].metadata.pop("repro_jupyter", None)
    nbformat.write(nb, src)
    report = verify_notebook(src, VerifyOptions(timeout=120))
    cell = next(c for c in report["cells"] if c["index"] == 5)
    assert cell["status"] == "drift"
    outputs = [d for d in cell["differences"] if d["kind"] == "output"]
    assert outputs and outputs[0]["severity"] == "drift" and "28 -> 12" in outputs[0]["detail"], outputs


def test_a_digest_taken_during_the_cell_masks_only_that_cells_clock():
    """The kernel may pass the cell's (start, now): clocks it printed then leave the digest alone."""

    def printed(stamp: float, text: str = "") -> list[dict]:
        line = f"Last executed: {datetime.fromtimestamp(stamp)}\n{text}"
        listing = _ls(stamp)
        return [{"output_type": "stream", "name": "stdout", "text": line + listing}]

    yesterday, today = OLD_WINDOW[0] + 10, NOW - 10
    assert output_digests(printed(yesterday), (yesterday - 5, yesterday + 5)) == output_digests(
        printed(today), (today - 5, today + 5)
    )
    assert output_digests(printed(yesterday)) != output_digests(printed(today))  # no window: compared
    assert output_digests(printed(yesterday, "peak 2024-01-28"), (yesterday - 5, yesterday + 5)) != (
        output_digests(printed(today, "peak 2024-01-12"), (today - 5, today + 5))
    )


def test_numpy2_structured_scalar_repr_is_representation_drift_only():
    old = "('Alice', 25, 55.)"  # pdsh_02.09 cell 13, NumPy 1
    new = "np.void(('Alice', 25, 55.0), dtype=[('name', '<U10'), ('age', '<i4'), ('weight', '<f8')])"
    assert _cmp(old, new)[0] == "benign"
    assert _cmp(old, new.replace("25", "26"))[0] == "drift"
    assert _cmp(old, new, CompareOptions(representation_is_benign=False))[0] == "drift"  # --strict-repr


@pytest.mark.parametrize(
    "raw, shown",
    [
        # a shorter progress line leaves the end of the longer one, as Lab shows and saves it
        ("epoch 1 loss 10.1234\repoch 2 loss 9.8765\r\n", "epoch 2 loss 9.87654\n"),
        ("50%\r100%\n", "100%\n"),
        ("abc\r\n", "abc\n"),
        ("a\rb\nc", "b\nc"),
        ("abc\b\bX", "aX"),  # Lab's backspace takes the character before the cursor and the one under it
        ("\b\bab\r\bc", "cb"),
        ("no control characters\n", "no control characters\n"),
    ],
)
def test_carriage_returns_and_backspaces_as_jupyterlab_saves_them(raw, shown):
    """A notebook saved by Lab holds its stream text processed by Lab's ``processText``; a headless run's
    raw stream must normalise to the same text, or every progress line is a false alarm (the old rule
    kept only the text after the last ``\\r``: ``epoch 2 loss 9.8765``).  Checked against Lab's own
    function on 3,003 random strings when written; these cases pin it."""
    from repro_jupyter.compare.normalize import collapse_carriage_returns

    assert collapse_carriage_returns(raw) == shown
    assert collapse_carriage_returns(shown) == shown  # what Lab saved is left as it is
