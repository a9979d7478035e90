"""The `newsletter subscribers ...` and `newsletter segments ...` commands."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Callable

import pytest
from click.testing import Result

import newsletter.commands.subscribers as subscribers_command

from .corpus import awkward_csv, mailchimp_zip

Cli = Callable[..., Result]


def test_import_prints_the_summary(cli: Cli, sample_ws: Path) -> None:
    result = cli("subscribers", "import", str(sample_ws / "subscribers" / "sample.csv"))
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 60, updated 0, unchanged 0, duplicates 0, rejected 0, suppressed 0\n"
    again = cli("subscribers", "import", str(sample_ws / "subscribers" / "sample.csv"))
    assert again.stdout == "imported 0, updated 0, unchanged 60, duplicates 0, rejected 0, suppressed 0\n"


def test_rejected_rows_are_listed_with_file_and_line(cli: Cli, tmp_path: Path) -> None:
    path = awkward_csv(tmp_path)
    result = cli("subscribers", "import", str(path))
    assert result.exit_code == 1
    assert result.stdout == "imported 5, updated 0, unchanged 0, duplicates 1, rejected 3, suppressed 0\n"
    lines = result.stderr.splitlines()
    assert [line.split(": ")[0] for line in lines[:3]] == [f"{path}:3", f"{path}:10", f"{path}:11"]
    assert lines[-1] == "Error: 3 row(s) rejected; the other rows were imported"


def test_strict_import_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    result = cli("subscribers", "import", "--strict", str(awkward_csv(tmp_path)))
    assert result.exit_code == 1
    assert result.stdout == ("Nothing written (--strict). Would have: imported 5, updated 0, unchanged 0, "
                             "duplicates 1, rejected 3, suppressed 0\n")
    assert "nothing was written (--strict)" in result.stderr
    assert cli("segments").stdout.splitlines()[0].split()[:2] == ["all", "0"]


def test_import_options(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "de.csv"
    path.write_text("Mail;Vorname\nana@example.org;Ana\n", encoding="utf-8")
    result = cli("subscribers", "import", str(path), "--map-column", "Mail=email", "--map-column",
                 "Vorname=first_name", "--tag", "fair-2026", "--status", "unconfirmed")
    assert result.exit_code == 0, result.output
    shown = cli("subscribers", "show", "ana@example.org").stdout
    assert "status:     unconfirmed" in shown and "tags:       fair-2026" in shown and "Ana" in shown
    bad = cli("subscribers", "import", str(path), "--map-column", "Mail")
    assert bad.exit_code == 2 and "expected FROM=TO" in bad.stderr
    bad_tag = cli("subscribers", "import", str(path), "--tag", "a,b")
    assert bad_tag.exit_code == 2 and "--tag" in bad_tag.stderr


def test_a_long_import_shows_a_progress_bar(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subscribers_command, "PROGRESS_MIN_BYTES", 0)
    result = cli("subscribers", "import", str(mailchimp_zip(tmp_path)))
    assert result.exit_code == 0
    assert "Importing" in result.stderr and "imported 5" in result.stdout


def test_an_unreadable_file_is_one_clear_error(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("name,city\nAna,Lyon\n", encoding="utf-8")
    result = cli("subscribers", "import", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "names.csv:1: cannot tell the format" in result.stderr


def test_export_to_a_file_and_to_standard_output(cli: Cli, sample_ws: Path, tmp_path: Path) -> None:
    cli("subscribers", "import", str(sample_ws / "subscribers" / "sample.csv"))
    out = tmp_path / "out" / "leaders.csv"
    result = cli("subscribers", "export", "--segment", "leaders", "-o", str(out))
    assert result.exit_code == 0 and result.stderr == f"Exported 12 subscriber(s) to {out}\n"
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 12 and all("leader" in r["tags"] for r in rows)
    jsonl = cli("subscribers", "export", "--format", "jsonl")
    assert len(jsonl.stdout.splitlines()) == 60


def test_export_of_an_unknown_segment_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "x.csv"
    result = cli("subscribers", "export", "--segment", "leader", "-o", str(out))
    assert result.exit_code == 1 and "did you mean 'leaders'" in result.stderr
    assert not out.parent.exists()


def test_add_show_unsubscribe_resubscribe(cli: Cli) -> None:
    added = cli("subscribers", "add", "Ana@Example.ORG", "--first-name", "Ana", "--last-name", "López",
                "--language", "es", "--country", "ar", "--tag", "leader", "--attribute", "centre=Rosario")
    assert added.exit_code == 0 and added.stdout.startswith("Added Ana@example.org (id 1, subscribed)")
    shown = cli("subscribers", "show", "ana@example.org").stdout
    for expected in ("name:       Ana López", "country:    AR", "centre: Rosario", "segments:   all, leaders, spanish",
                     "method: editor-vouched"):
        assert expected in shown
    assert cli("subscribers", "add", "ana@example.org").exit_code == 1

    gone = cli("subscribers", "unsubscribe", "ana@example.org", "--reason", "asked by phone")
    assert gone.stdout == "Unsubscribed Ana@example.org (was subscribed)\n"
    assert "already unsubscribed" in cli("subscribers", "unsubscribe", "ana@example.org").stdout
    shown = cli("subscribers", "show", "ana@example.org").stdout
    assert "withdrawn_reason: asked by phone" in shown and "not subscribed" in shown

    needs_consent = cli("subscribers", "resubscribe", "ana@example.org")
    assert needs_consent.exit_code == 2 and "--consent-source" in needs_consent.stderr
    back = cli("subscribers", "resubscribe", "ana@example.org", "--consent-source", "fair stand",
               "--consent-method", "written")
    assert back.exit_code == 0 and "Resubscribed" in back.stdout
    assert "method: written" in cli("subscribers", "show", "ana@example.org").stdout


def test_add_refuses_bad_values(cli: Cli) -> None:
    for args, message in [(["not-an-address"], "not a valid e-mail address"),
                          (["a@example.org", "--name", "=?utf-8?q?x?="], "encoded-word"),
                          (["a@example.org", "--country", "Mittelerde"], "two-letter country code")]:
        result = cli("subscribers", "add", *args)
        assert result.exit_code == 1 and message in result.stderr
    assert cli("subscribers", "show", "nobody@example.org").exit_code == 1


def test_segments_lists_counts(cli: Cli, sample_ws: Path) -> None:
    cli("subscribers", "import", str(sample_ws / "subscribers" / "sample.csv"))
    result = cli("segments")
    assert result.exit_code == 0
    counts = {line.split()[0]: int(line.split()[1]) for line in result.stdout.splitlines()[:-1]}
    assert counts["all"] == 56 and counts["leaders"] == 12 and set(counts) >= {"english", "german", "spanish"}
    assert result.stdout.splitlines()[-1] == "not in any segment: 1 cleaned, 3 unsubscribed"
    assert cli("segments", "list").stdout == result.stdout


def test_segments_show_lists_members(cli: Cli, sample_ws: Path) -> None:
    cli("subscribers", "import", str(sample_ws / "subscribers" / "sample.csv"))
    result = cli("segments", "show", "africa")
    rows = list(csv.reader(io.StringIO(result.stdout), delimiter="\t"))
    assert len(rows) == 7 and {r[3] for r in rows} <= {"CM", "KE", "RW"}
    assert result.stderr == "africa: 7 subscribed member(s)\n"
    limited = cli("segments", "show", "africa", "--limit", "2")
    assert len(limited.stdout.splitlines()) == 2 and "2 shown" in limited.stderr
    assert cli("segments", "show", "asia").exit_code == 1


def test_a_broken_segments_file_is_reported_with_file_and_line(cli: Cli, sample_ws: Path) -> None:
    (sample_ws / "subscribers" / "segments.yaml").write_text(
        "segments:\n  leaders:\n    rule: {field: tags, contain: leader}\n", encoding="utf-8")
    result = cli("segments")
    assert result.exit_code == 1
    assert "segments.yaml:3:25: segments.leaders.rule.contain: unknown key 'contain'; did you mean 'contains'?" \
        in result.stderr


def test_many_bad_rows_are_listed_up_to_a_limit(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text("email\n" + "not-an-address\n" * 1005 + "ok@example.org\n", encoding="utf-8")
    result = cli("subscribers", "import", str(path))
    lines = result.stderr.splitlines()
    assert len([line for line in lines if "not a valid e-mail address" in line]) == 1000
    assert "... and 5 more rejected rows" in lines
    assert "imported 1," in result.stdout and "rejected 1005," in result.stdout
