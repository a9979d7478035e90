"""Issue 17: an edition goes out language by language (`send --lang en,de`, later `--lang es`),
never reaching anyone twice, and a workspace that requires approval refuses a language nobody
signed off or that changed since. The real CLI in a subprocess against a local aiosmtpd
server; the sample workspace requires approval and ships its approvals."""
from __future__ import annotations

import signal
from pathlib import Path

from click.testing import CliRunner

from newsletter.campaign.journal import Journal
from newsletter.cli import main
from tests.campaign.sending import LANGS, cli, db_path, make_workspace, wait_for
from tests.support.workspaces import edit_edition

EDITION = "2026-11"          # languages en, de, es; en is the source language
SMTP = ("--adapter", "smtp")


def run(ws: Path, port: int, *args: str) -> tuple[int, str, str]:
    proc = cli(ws, port, "--segment", "all", *SMTP, *args)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def by_language(emails: list[str]) -> dict[str, set[str]]:
    """make_workspace gives reader i the language LANGS[i % 3]."""
    return {lang: {e for i, e in enumerate(emails) if LANGS[i % 3] == lang} for lang in LANGS}


def add_reader(ws: Path, email: str, language: str) -> None:
    (ws / "more.csv").write_text(f"email,first_name,language\n{email},Extra,{language}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["-C", str(ws), "subscribers", "import", str(ws / "more.csv")])
    assert result.exit_code == 0, result.output


def approve(ws: Path, langs: str, by: str = "Rosa M.") -> None:
    result = CliRunner().invoke(main, ["-C", str(ws), "approve", EDITION, "--lang", langs, "--by", by])
    assert result.exit_code == 0, result.output


def edit(ws: Path, old: str, new: str) -> None:
    edit_edition(ws, EDITION, old, new)


def campaigns(ws: Path) -> list[tuple[str, str]]:
    with Journal(db_path(ws)) as journal:
        return [(c.languages, c.status) for c in journal.campaigns()]


def test_send_refuses_unapproved_and_changed_languages_until_they_are_approved(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 9)
    (sample_ws / "issues" / EDITION / "approvals.yaml").unlink()
    approve(sample_ws, "de")                      # es: nobody signed it off

    code, out, err = run(sample_ws, smtp_server.port, "--yes")
    assert code == 1, (out, err)
    assert "es: not approved" in err and "de:" not in err.split("Read the texts")[0]
    assert f"newsletter approve {EDITION} --lang es" in err
    assert "A send without --lang sends every language of the edition, so nothing was sent." in err
    assert f"newsletter send {EDITION} --segment all --lang en,de" in err
    assert smtp_server.handler.messages == []
    assert not Journal(db_path(sample_ws)).campaigns()

    # The source text changes after German was approved: German is stale; English is the
    # editor's own text and needs no approval.
    edit(sample_ws, "Mothers and children in the garden", "Mothers and their children in the garden")
    code, out, err = run(sample_ws, smtp_server.port, "--yes", "--lang", "en,de")
    assert code == 1, (out, err)
    assert "de: changed since it was approved by Rosa M. at " in err
    assert f"newsletter approve {EDITION} --lang de\n" in err and "--lang es" not in err
    assert smtp_server.handler.messages == []

    # English alone goes; then German and Spanish once signed off.
    code, out, err = run(sample_ws, smtp_server.port, "--yes", "--lang", "en")
    assert code == 0, (out, err)
    assert set(smtp_server.handler.per_address()) == by_language(emails)["en"]
    approve(sample_ws, "de,es")
    code, out, err = run(sample_ws, smtp_server.port, "--yes")
    assert code == 0, (out, err)
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}


def test_test_messages_go_out_for_unapproved_languages(sample_ws: Path, smtp_server) -> None:
    make_workspace(sample_ws, 3)
    (sample_ws / "issues" / EDITION / "approvals.yaml").unlink()
    code, out, err = run(sample_ws, smtp_server.port, "--test", "reviewer@example.net", "--lang", "es")
    assert code == 0, (out, err)
    got = smtp_server.handler.messages
    assert got and all(m.rcpt_tos == ["reviewer@example.net"] for m in got)
    assert all('lang="es"' in m.message.get_body(("html",)).get_content() for m in got)


def test_approval_is_not_required_unless_the_workspace_says_so(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 6)
    (sample_ws / "issues" / EDITION / "approvals.yaml").unlink()
    proc = cli(sample_ws, smtp_server.port, "--segment", "all", *SMTP, "--yes",
               NEWSLETTER_TRANSLATIONS__REQUIRE_APPROVAL="false")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, (out, err)
    assert "translations.require_approval off" in out
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}


def test_waves_then_repeats_reach_every_reader_exactly_once(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 12)
    add_reader(sample_ws, "lucie@example.org", "fr")      # the edition has no French: English wave
    langs = by_language(emails)
    handler = smtp_server.handler

    code, out, err = run(sample_ws, smtp_server.port, "--yes", "--lang", "de,en")
    assert code == 0, (out, err)
    assert "this wave: en, de" in out
    assert handler.per_address() == {e: 1 for e in langs["en"] | langs["de"] | {"lucie@example.org"}}
    assert campaigns(sample_ws) == [("en,de", "finished")]

    code, out, err = run(sample_ws, smtp_server.port, "--dry-run")
    assert code == 0, (out, err)
    assert "(not received from any campaign that reaches people): de 0, en 0, es 4" in out

    code, out, err = run(sample_ws, smtp_server.port, "--yes", "--lang", "es")
    assert code == 0, (out, err)
    assert handler.per_address() == {e: 1 for e in [*emails, "lucie@example.org"]}
    assert campaigns(sample_ws) == [("en,de", "finished"), ("es", "finished")]
    listing = CliRunner().invoke(main, ["-C", str(sample_ws), "campaigns"]).output
    assert "all [en,de]" in listing and "all [es]" in listing, listing

    # The first wave again, and the whole edition without --lang: nobody gets a second message.
    code, out, err = run(sample_ws, smtp_server.port, "--yes", "--lang", "en,de")
    assert code == 0, (out, err)
    assert "Nothing left to send" in out
    code, out, err = run(sample_ws, smtp_server.port, "--yes")
    assert code == 0, (out, err)
    assert f"already received {EDITION} from another campaign: 13" in out
    assert f"everyone it would reach has received {EDITION}" in out
    assert handler.per_address() == {e: 1 for e in [*emails, "lucie@example.org"]}
    # Naming every language is the whole edition, not a wave.
    code, out, err = run(sample_ws, smtp_server.port, "--yes", "--lang", "es,de,en")
    assert code == 0 and "this wave" not in out and "Edition 2026-11 (number 14) to segment 'all' via smtp: 13" in out
    assert campaigns(sample_ws) == [("en,de", "finished"), ("es", "finished")]


def test_a_wave_stopped_midway_resumes_and_the_next_wave_reaches_only_the_rest(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 60)
    langs = by_language(emails)
    wave = cli(sample_ws, smtp_server.port, "--segment", "all", *SMTP, "--yes", "--lang", "en,de", "--rate", "10")
    wait_for(lambda: len(smtp_server.handler.messages) >= 3, what="the first messages of the wave")
    wave.send_signal(signal.SIGTERM)
    out, err = wave.communicate(timeout=60)
    assert wave.returncode == 143, (out, err)
    first = smtp_server.handler.per_address()
    assert 3 <= len(first) < 40 and set(first) <= langs["en"] | langs["de"]
    assert campaigns(sample_ws) == [("en,de", "paused")]

    # The Spanish wave meanwhile: its own campaign, which the paused one does not block.
    code, out, err = run(sample_ws, smtp_server.port, "--yes", "--lang", "es")
    assert code == 0, (out, err)
    code, out, err = run(sample_ws, smtp_server.port, "--yes", "--lang", "en,de")
    assert code == 0, (out, err)
    assert "resuming: the journal has" in out
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}
    assert campaigns(sample_ws) == [("en,de", "finished"), ("es", "finished")]


def test_an_unknown_language_is_a_usage_error_naming_the_editions_languages(sample_ws: Path, smtp_server) -> None:
    make_workspace(sample_ws, 3)
    code, out, err = run(sample_ws, smtp_server.port, "--dry-run", "--lang", "en,fr")
    assert code == 2, (out, err)
    assert f"--lang fr: edition {EDITION} has no language 'fr'; its languages: en, de, es" in err
    assert "Traceback" not in err
    code, out, err = run(sample_ws, smtp_server.port, "--dry-run", "--lang", " ,")
    assert code == 2 and "names no language; edition 2026-11's languages: en, de, es" in err, (out, err)


def test_lang_is_read_as_readers_languages_are_whatever_its_case_and_repeats(sample_ws: Path, smtp_server) -> None:
    make_workspace(sample_ws, 3)     # one reader each of en, de, es
    code, out, err = run(sample_ws, smtp_server.port, "--dry-run", "--lang", "EN,De", "--lang", "en")
    assert code == 0, (out, err)
    assert "by language: de 1, en 1\n" in out, out


def test_the_dry_run_shows_each_languages_state_and_never_refuses(sample_ws: Path, smtp_server) -> None:
    make_workspace(sample_ws, 9)
    folder = sample_ws / "issues" / EDITION
    (folder / "approvals.yaml").unlink()
    approve(sample_ws, "de,es", by="Ana")
    edit(sample_ws, "Mütter und Kinder im Garten", "Mütter mit Kindern im Garten")     # German only
    text = (folder / "approvals.yaml").read_text(encoding="utf-8")
    es_print = text.split("es:")[1].split("fingerprint: ")[1].split()[0]
    (folder / "approvals.yaml").write_text(text.replace(es_print, "hand-written"), encoding="utf-8")

    code, out, err = run(sample_ws, smtp_server.port, "--dry-run", "--lang", "de")
    assert code == 0, (out, err)
    assert "approval (translations.require_approval on):" in out
    assert "en: source language, needs no approval  [not in this send]" in out
    assert "de: changed since it was approved by Ana at " in out
    assert "es: unknown: the approval by Ana at " in out and "'hand-written'" in out
    assert "a real send would refuse: de (changed)\n" in out
    assert "Dry run: nothing was sent." in out
    assert smtp_server.handler.messages == []

    approve(sample_ws, "de", by="Ana")
    code, out, err = run(sample_ws, smtp_server.port, "--dry-run")
    assert "de: approved by Ana at " in out
    assert "a real send would refuse: es (unknown)" in out
    code, out, err = run(sample_ws, smtp_server.port, "--yes")
    assert code == 1 and "es: unknown: the approval by Ana" in err, (out, err)
    assert smtp_server.handler.messages == []
