"""The import corpus and the import rules of issue 4, one test per rule."""
from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.core.errors import SourceError
from newsletter.subscribers.importers import import_file, input_size
from newsletter.subscribers.importing import ImportOptions
from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.store import Store

from .corpus import awkward_csv, mailchimp_csv, mailchimp_zip, MC_HEADER, MC_SUBSCRIBED, mc_row


def _everyone(store: Store) -> dict[str, Subscriber]:
    return {s.email: s for s in store.iter_all()}


def test_the_awkward_csv_lands_its_good_rows_and_reports_the_bad_ones(empty_store: Store, tmp_path: Path) -> None:
    path = awkward_csv(tmp_path)
    summary = import_file(empty_store, path)
    assert [str(e) for e in summary.errors] == [
        f"{path}:3: email: 'not-an-address' is not a valid e-mail address: An email address must have an @-sign.",
        f"{path}:10: first_name: '=?utf-8?q?Fritz=0D=0ABcc:_victim@example.org?=' looks like a MIME "
        "encoded-word (=?...?=), which could inject e-mail headers; write the name in plain letters",
        f"{path}:11: email: is empty; every row needs an e-mail address",
    ]
    assert (summary.imported, summary.duplicates, summary.rejected) == (5, 1, 3)
    people = _everyone(empty_store)
    assert sorted(people) == ["ana.lopez@example.org", "carla@example.net", "dieter@xn--bcher-kva.example",
                              "eva@example.com", "hanna@example.org"]
    # The BOM is not part of the first column's name, so 'email' was found and read.
    ana = people["ana.lopez@example.org"]
    assert ana.name == "Ana López" and ana.tags == ["leader", "partner"]  # the duplicate merged in
    assert ana.attributes == {"centre": "Centro Rosario"}                # an empty cell changes nothing
    assert people["carla@example.net"].attributes["centre"] == "Centro\r\nMendoza"  # quoted newline kept
    assert people["eva@example.com"].first_name == "Eva Bcc: victim@example.org"  # CR/LF neutralised
    assert people["hanna@example.org"].last_name == "Dömötör"           # the last row, without a newline
    assert people["dieter@xn--bcher-kva.example"].language == "de"


def test_a_reimport_changes_nothing(empty_store: Store, tmp_path: Path) -> None:
    path = awkward_csv(tmp_path)
    import_file(empty_store, path)
    before = _everyone(empty_store)
    again = import_file(empty_store, path)
    assert (again.imported, again.updated, again.unchanged, again.duplicates, again.rejected) == (0, 0, 5, 1, 3)
    assert _everyone(empty_store) == before  # updated_at too: nothing was written


def test_strict_writes_nothing_if_any_row_is_bad(empty_store: Store, tmp_path: Path) -> None:
    summary = import_file(empty_store, awkward_csv(tmp_path), options=ImportOptions(strict=True))
    assert not summary.written and summary.rejected == 3 and len(summary.errors) == 3
    assert (summary.imported, summary.duplicates) == (5, 1)  # what it would have done
    assert list(empty_store.iter_all()) == []


def test_strict_writes_everything_when_every_row_is_good(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "good.csv"
    rows = "".join(f"p{i}@example.org,P{i}\n" for i in range(4500))  # more than one batch
    path.write_text("email,first_name\n" + rows, encoding="utf-8")
    summary = import_file(empty_store, path, options=ImportOptions(strict=True))
    assert summary.written and summary.imported == 4500
    assert empty_store.count("all") == 4500


def test_strict_rolls_back_earlier_batches_too(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "late-error.csv"
    rows = "".join(f"p{i}@example.org\n" for i in range(4500)) + "broken\n"
    path.write_text("email\n" + rows, encoding="utf-8")
    summary = import_file(empty_store, path, options=ImportOptions(strict=True))
    assert [str(e).split(": ")[0] for e in summary.errors] == [f"{path}:4502"]
    assert list(empty_store.iter_all()) == []


def test_the_mailchimp_zip_is_read_and_the_unsubscribe_wins(empty_store: Store, tmp_path: Path) -> None:
    summary = import_file(empty_store, mailchimp_zip(tmp_path))
    assert (summary.imported, summary.duplicates, summary.rejected) == (5, 1, 0)
    people = _everyone(empty_store)
    assert people["left@example.com"].status == "unsubscribed"
    assert people["gone@example.org"].status == "unsubscribed"
    assert people["bounced@example.org"].status == "cleaned"
    assert people["hannelore@example.org"].status == "subscribed"
    assert empty_store.count("all") == 2
    again = import_file(empty_store, mailchimp_zip(tmp_path))
    assert (again.unchanged, again.duplicates, again.updated, again.imported) == (5, 1, 0, 0)


def test_mailchimp_columns_become_consent_country_tags_and_attributes(empty_store: Store, tmp_path: Path) -> None:
    import_file(empty_store, mailchimp_zip(tmp_path))
    hannelore = empty_store.get("hannelore@example.org")
    assert hannelore.name == "Hannelore Brückner" and hannelore.country == "DE"
    assert hannelore.tags == ["Vorstand", "leader"]
    assert hannelore.consent == {"time": "2023-02-01T09:15:00Z", "ip": "192.0.2.10",
                                 "confirmed_at": "2023-02-01T09:20:11Z", "confirm_ip": "198.51.100.7",
                                 "source": "mailchimp: subscribed_members_export_4f2a.csv",
                                 "method": "mailchimp-opt-in"}
    assert hannelore.created_at == "2023-02-01T09:15:00Z"
    assert hannelore.attributes["Centre"] == "Mütterzentrum Lindenhof"
    assert hannelore.attributes["NOTES"] == "met in Stuttgart\nlikes cake"
    assert hannelore.attributes["LEID"] == "123456" and "TAGS" not in hannelore.attributes
    gone = empty_store.get("gone@example.org")
    assert gone.consent["withdrawn_at"] == "2024-01-15T08:00:00Z" and gone.consent["withdrawn_reason"] == "OTHER"
    assert gone.attributes["UNSUB_REASON_OTHER"] == "too many emails"
    assert empty_store.get("bounced@example.org").attributes["CLEAN_CAMPAIGN_TITLE"] == "March news"


def test_one_mailchimp_csv_alone_takes_its_status_from_its_name(empty_store: Store, tmp_path: Path) -> None:
    from .corpus import MC_CLEANED, MC_UNSUBSCRIBED
    import_file(empty_store, mailchimp_csv(tmp_path, "unsubscribed_members_export_4f2a.csv", MC_UNSUBSCRIBED))
    import_file(empty_store, mailchimp_csv(tmp_path, "export.csv", MC_CLEANED))  # no name: from its columns
    assert empty_store.get("gone@example.org").status == "unsubscribed"
    assert empty_store.get("bounced@example.org").status == "cleaned"


def test_no_import_resubscribes_anyone_who_left(empty_store: Store, tmp_path: Path) -> None:
    import_file(empty_store, mailchimp_zip(tmp_path))
    empty_store.insert_many([Subscriber(None, "blocked@example.org", status="blocklisted")])
    path = tmp_path / "comeback.csv"
    path.write_text("email,status,tags\nleft@example.com,subscribed,back\ngone@example.org,,\n"
                    "bounced@example.org,unconfirmed,\nblocked@example.org,subscribed,\n", encoding="utf-8")
    summary = import_file(empty_store, path)
    assert summary.suppressed == 4 and summary.imported == 0
    people = _everyone(empty_store)
    assert [people[e].status for e in ("left@example.com", "gone@example.org", "bounced@example.org",
                                       "blocked@example.org")] == ["unsubscribed", "unsubscribed", "cleaned",
                                                                   "blocklisted"]
    assert people["left@example.com"].tags == ["back", "member"]  # other data still merges
    assert empty_store.count("all") == 2


def test_an_import_can_unsubscribe(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("email\nana@example.org\n", encoding="utf-8")
    import_file(empty_store, path)
    path.write_text("email,status\nana@example.org,unsubscribed\n", encoding="utf-8")
    assert import_file(empty_store, path).updated == 1
    assert empty_store.get("ana@example.org").status == "unsubscribed"


def test_rows_without_status_are_vouched_for_by_the_importer(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("email\nana@example.org\n", encoding="utf-8")
    import_file(empty_store, path)
    ana = empty_store.get("ana@example.org")
    assert ana.status == "subscribed"
    assert ana.consent == {"source": "import of list.csv", "method": "importer-vouched",
                           "time": "2026-11-01T09:30:00Z"}
    path.write_text("email\nbea@example.org\n", encoding="utf-8")
    import_file(empty_store, path, options=ImportOptions(status="unconfirmed", tags=["fair-2026"]))
    bea = empty_store.get("bea@example.org")
    assert bea.status == "unconfirmed" and bea.tags == ["fair-2026"]


def test_the_summary_counts_every_row_once(empty_store: Store, tmp_path: Path) -> None:
    import_file(empty_store, mailchimp_zip(tmp_path))
    path = tmp_path / "mixed.csv"
    path.write_text("email,first_name\n"
                    "new@example.org,New\n"              # imported
                    "wanjiru@example.net,Wanjiru\n"      # unchanged
                    "hannelore@example.org,Hanne\n"      # updated
                    "HANNELORE@example.org,Hanne\n"      # duplicate
                    "left@example.com,Lena\n"            # suppressed
                    "nope\n", encoding="utf-8")          # rejected
    s = import_file(empty_store, path)
    assert (s.imported, s.updated, s.unchanged, s.duplicates, s.rejected, s.suppressed) == (1, 1, 1, 1, 1, 1)
    assert s.line() == "imported 1, updated 1, unchanged 1, duplicates 1, rejected 1, suppressed 1"


def test_duplicates_across_batches_are_counted(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    rows = [f"p{i}@example.org,a" for i in range(2500)] + ["P7@Example.org,b"]
    path.write_text("email,tags\n" + "\n".join(rows) + "\n", encoding="utf-8")
    summary = import_file(empty_store, path)
    assert (summary.imported, summary.duplicates) == (2500, 1)
    assert empty_store.get("p7@example.org").tags == ["a", "b"]


def test_progress_reports_every_byte(empty_store: Store, tmp_path: Path) -> None:
    seen: list[int] = []
    path = mailchimp_zip(tmp_path)
    import_file(empty_store, path, progress=seen.append)
    assert sum(seen) == input_size(path) > 0


def test_a_header_problem_stops_the_import_before_anything_is_written(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "audience.zip"
    import zipfile
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("subscribed_members_export_1.csv", "Email Address,First Name\r\nok@example.org,Ok\r\n")
        archive.writestr("cleaned_members_export_1.csv", "Vorname,Nachname\r\nX,Y\r\n")
    with pytest.raises(SourceError, match="cleaned_members_export_1.csv:1: no 'Email Address' column"):
        import_file(empty_store, path)
    assert list(empty_store.iter_all()) == []


def test_a_mailchimp_header_row_check(tmp_path: Path) -> None:
    assert MC_SUBSCRIBED[0] == MC_HEADER and len(mc_row("a@b.org", "A", "B", "DE")) == len(MC_HEADER)
