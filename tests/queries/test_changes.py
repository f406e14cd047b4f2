"""What changed between two loads of one export (export-changes derived graph and query)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from carbonkg import queries as Q
from carbonkg.loaders import summaries
from carbonkg.loaders.derived import all_derivations, refresh
from carbonkg.loaders.pipeline import load_paths
from carbonkg.store import EmbeddedStore

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "registry-exports"


@pytest.mark.parametrize("chunk_chars", [4 << 20, 97], ids=["one-literal", "many-chunks"])
def test_changes_between_two_loads(tmp_path: Path, monkeypatch, chunk_chars: int) -> None:
    # many-chunks: a snapshot split in literals of 97 characters, as the 1M-row benchmark's are
    # split at 4 MiB (one literal over 16 MiB is refused by Oxigraph's parser)
    monkeypatch.setattr(summaries, "_CHUNK_CHARS", chunk_chars)
    folder = tmp_path / "verra"
    shutil.copytree(EXPORTS / "verra", folder)
    store = EmbeddedStore(tmp_path / "store")
    assert [r.status for r in load_paths(store, [folder])] == ["loaded", "loaded"]
    refresh(store, all_derivations())
    assert Q.rows(Q.run_named(store, "export-changes", {"registry": "verra"})) == []  # one version: no change

    path = folder / "transactions.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames, list(reader)
    removed = rows.pop(2)  # data row 3
    rows[0]["Retirement Beneficiary"] = "Someone Else"  # data row 1
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    assert [r.status for r in load_paths(store, [folder])] == ["skipped", "loaded"]
    refresh(store, all_derivations())

    found = Q.rows(Q.run_named(store, "export-changes", {"registry": "verra", "file": "transactions.csv"}))
    kinds = sorted((r["change"].value, r.get("previousRownum").value if "previousRownum" in r else "",
                    r.get("rownum").value if "rownum" in r else "") for r in found)
    assert kinds == [("changed", "1", "1"), ("removed", "3", "")]
    changed = next(r for r in found if r["change"].value == "changed")
    assert changed["changedColumns"].value == "Retirement Beneficiary"
    assert changed["keyColumn"].value == "Serial Number"
    assert json.loads(changed["record"].value)["Retirement Beneficiary"] == "Someone Else"
    gone = next(r for r in found if r["change"].value == "removed")
    assert json.loads(gone["previousRecord"].value)["Serial Number"] == removed["Serial Number"]

    # another export's load keeps this change queryable; the projects file has none
    refresh(store, all_derivations(), force=True)
    assert len(Q.rows(Q.run_named(store, "export-changes", {"registry": "verra"}))) == 2
