"""Mocha's training-log parser, on hand-written logs in both formats."""

from __future__ import annotations

import yaml

from mocha_ansible.project import role_python
from tests.helpers import ROOT

parse = role_python("mocha_cifar", "filter_plugins/mocha_cifar.py").mocha_cifar_parse_log

LOGGING = """\
26-Oct 14:00:00:INFO:root: * CUDA       enabled [DEV=0] (MOCHA_USE_CUDA environment variable detected)
26-Oct 14:00:01:INFO:root:TRAIN iter=000000 obj_val=2.30258509
26-Oct 14:00:01:INFO:root:
26-Oct 14:00:01:INFO:root:## Performance on Validation Set after 0 iterations
26-Oct 14:00:01:INFO:root:---------------------------------------------------------
26-Oct 14:00:01:INFO:root:  Accuracy (avg over 10000) = 10.0000%
26-Oct 14:00:04:INFO:root:TRAIN iter=000200 obj_val=2.10001234
26-Oct 14:00:07:INFO:root:TRAIN iter=000400 obj_val=1.90001234
26-Oct 14:00:10:INFO:root:TRAIN iter=000600 obj_val=1.80000000
26-Oct 14:00:13:INFO:root:TRAIN iter=000800 obj_val=1.70000000
26-Oct 14:00:16:INFO:root:TRAIN iter=001000 obj_val=1.60000000
26-Oct 14:00:17:INFO:root:## Performance on Validation Set after 1000 iterations
26-Oct 14:00:17:INFO:root:  Accuracy (avg over 10000) = 35.1200%
26-Oct 14:00:17:INFO:root:Saving snapshot to snapshot-001000.jld...
"""


def test_logging_jl_format():
    r = parse(LOGGING)
    assert r["iterations"] == 1000
    assert [o["iter"] for o in r["objective"]] == [0, 200, 400, 600, 800, 1000]
    assert r["objective"][1]["obj_val"] == 2.10001234
    assert r["validation_accuracy"] == [
        {"iter": 0, "accuracy_pct": 10.0, "over": 10000},
        {"iter": 1000, "accuracy_pct": 35.12, "over": 10000},
    ]
    assert r["final_accuracy_pct"] == 35.12
    assert r["seconds_per_200_iter"] == 3.0
    assert r["wall_seconds"] == 15.0
    assert r["backend"] == "gpu"
    assert r["snapshots"] == ["snapshot-001000.jld"]


def test_memento_format():
    text = """\
[2017-11-20 10:00:00 | info | root]:  * CUDA       disabled by default
[2017-11-20 10:00:01 | info | root]: TRAIN iter=000200 obj_val=2.20000000
[2017-11-20 10:00:07 | info | root]: TRAIN iter=000400 obj_val=2.00000000
[2017-11-20 10:00:08 | info | root]: ## Performance on Validation Set after 400 iterations
[2017-11-20 10:00:08 | info | root]:   Accuracy (avg over 10000) = 20.5000%
"""
    r = parse(text)
    assert r["iterations"] == 400 and r["seconds_per_200_iter"] == 6.0
    assert r["final_accuracy_pct"] == 20.5 and r["backend"] == "cpu"


def test_a_run_across_midnight_and_new_year():
    text = "\n".join(
        [
            "31-Dec 23:59:58:INFO:root:TRAIN iter=000200 obj_val=2.0",
            "01-Jan 00:00:01:INFO:root:TRAIN iter=000400 obj_val=1.9",
            "01-Jan 00:00:04:INFO:root:TRAIN iter=000600 obj_val=1.8",
        ]
    )
    r = parse(text, year=2016)
    assert r["wall_seconds"] == 6.0 and r["seconds_per_200_iter"] == 3.0


def test_missing_accuracy_block():
    r = parse("\n".join(LOGGING.splitlines()[:2] + LOGGING.splitlines()[6:8]))
    assert r["validation_accuracy"] == [] and r["final_accuracy_pct"] is None
    assert r["iterations"] == 400


def test_log_cut_off_mid_line():
    cut = LOGGING[: LOGGING.index("obj_val=1.70000000") + len("obj_va")]
    r = parse(cut)
    assert r["iterations"] == 600  # the cut TRAIN line is not counted
    assert r["objective"][-1] == {"iter": 600, "obj_val": 1.8}


def test_an_accuracy_line_without_its_header_is_ignored():
    r = parse("26-Oct 14:00:01:INFO:root:  Accuracy (avg over 10000) = 99.0000%\n")
    assert r["validation_accuracy"] == []


def test_empty_log():
    r = parse("")
    assert r["iterations"] == 0 and r["objective"] == [] and r["seconds_per_200_iter"] is None
    assert r["wall_seconds"] is None and r["backend"] == "unknown"


def test_the_default_dataset_checksum_is_the_tables_sha256_with_the_published_md5_beside_it():
    """Issue 22: sha256 over md5 for the dataset, md5 kept as the published cross-check."""
    role = ROOT / "roles" / "mocha_cifar"
    table = yaml.safe_load((role / "vars" / "cifar10.yml").read_text())["mocha_cifar_cifar10"]
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    assert defaults["mocha_cifar_dataset_checksum"] == f"sha256:{table['sha256']}"
    assert defaults["mocha_cifar_dataset_url"] == table["url"]
    assert table["md5"] == "c32a1d4ab5d03f1284b67883e8d87530" and table["bytes"] == 170052171
    assert table["sha256_source"] and table["md5_source"]
