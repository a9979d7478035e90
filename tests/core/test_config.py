"""Settings: newsletter.yaml, environment overrides, secrets, workspace discovery."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.core.adapters import ADAPTERS
from newsletter.core.config import environment_overlay, find_workspace, load_settings, load_workspace
from newsletter.core.errors import ValidationFailed, WorkspaceNotFound


def test_sample_settings_load(sample_ws: Path) -> None:
    ws = load_workspace(sample_ws)
    assert ws.settings.languages.available == ["en", "de", "es"]
    assert ws.settings.msgid_domain == "mcin.example.org"
    assert ws.db_path == sample_ws.resolve() / "subscribers" / "newsletter.sqlite3"


def test_environment_overrides_the_file(sample_ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SENDER__FROM_ADDRESS", "other@example.net")
    monkeypatch.setenv("NEWSLETTER_DELIVERY__CONNECTIONS", "5")
    settings = load_workspace(sample_ws).settings
    assert settings.sender.from_address == "other@example.net"
    assert settings.delivery.connections == 5
    assert settings.sender.from_name == "Mother Centres International Network"


def test_unknown_setting_names_file_line_and_hint(sample_ws: Path) -> None:
    path = sample_ws / "newsletter.yaml"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines) + "\nlist_idd: x\n")
    with pytest.raises(ValidationFailed) as info:
        load_settings(path)
    (err,) = info.value.errors
    assert err.line == len(lines) + 1
    assert err.message == "unknown key 'list_idd'; did you mean 'list_id'?"


def test_password_in_yaml_is_refused(sample_ws: Path) -> None:
    path = sample_ws / "newsletter.yaml"
    path.write_text(path.read_text().replace("  connections: 2", "  connections: 2\n  smtp_url: smtp://u:secret@mail.example.org:587"))
    with pytest.raises(ValidationFailed) as info:
        load_settings(path)
    assert "password does not belong in newsletter.yaml" in info.value.errors[0].message
    assert info.value.errors[0].field == "delivery.smtp_url"


def test_secrets_come_from_environment_or_file(sample_ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-a-file\n")
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY_FILE", str(key_file))
    monkeypatch.setenv("NEWSLETTER_SMTP_URL", "smtp+starttls://u:p@127.0.0.1:2525")
    ws = load_workspace(sample_ws)
    assert ws.secrets.secret_key == b"from-a-file"
    assert ws.secrets.smtp_url == "smtp+starttls://u:p@127.0.0.1:2525"


def test_without_a_key_one_is_generated_and_kept(sample_ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSLETTER_SECRET_KEY", raising=False)
    monkeypatch.delenv("NEWSLETTER_SECRET_KEY_FILE", raising=False)
    first = load_workspace(sample_ws).secrets.secret_key
    assert len(first) == 64
    assert load_workspace(sample_ws).secrets.secret_key == first
    assert (sample_ws / "subscribers" / "secret.key").stat().st_mode & 0o077 == 0


def test_workspace_is_found_walking_up(sample_ws: Path) -> None:
    deep = sample_ws / "issues" / "2026-11" / "articles"
    assert find_workspace(deep) == sample_ws.resolve()


def test_no_workspace_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFound, match="-C/--workspace"):
        find_workspace(tmp_path)


# -- values checked where they are written --------------------------------------------------

# (line in the sample newsletter.yaml as written, its replacement, the key, words of the message)
BAD_SETTINGS = [
    ("  from_address: news@mcin.example.org", "  from_address: news.mcin.example.org",
     "sender.from_address", "expected an address like news@example.org"),
    ("  reply_to: office@mcin.example.org", "  reply_to: office@mcin",
     "sender.reply_to", "expected an address"),
    ("  unsubscribe: https://mcin.example.org/newsletter/unsubscribe",
     "  unsubscribe: http://mcin.example.org/newsletter/unsubscribe",
     "urls.unsubscribe", "expected https://"),
    ("  archive: https://mcin.example.org/newsletter", "  archive: /newsletter",
     "urls.archive", "expected an absolute URL"),
    ("  preferences: https://mcin.example.org/newsletter/preferences",
     "  preferences: https://mcin.example.org/news letter",
     "urls.preferences", "plain ASCII characters without spaces"),
    ("list_id: news.mcin.example.org", "list_id: <news mcin>", "list_id", "RFC 2919"),
    ("list_id: news.mcin.example.org", "list_id: news", "list_id", "RFC 2919"),
    ("  unsubscribe_mailto: unsubscribe@mcin.example.org", "  unsubscribe_mailto: mailto:unsubscribe",
     "urls.unsubscribe_mailto", "expected an address"),
    ("  adapter: outbox", "  adapter: smpt", "delivery.adapter", "did you mean 'smtp'?"),
    # the website is the masthead's link in every email and archive page
    ("  website: https://mcin.example.org", "  website: javascript:alert(1)",
     "organisation.website", "expected an absolute http(s) URL"),
    ("  website: https://mcin.example.org", '  website: " JaVaScRiPt:alert(1)"',
     "organisation.website", "expected"),
    ("  website: https://mcin.example.org", "  website: mcin.example.org",
     "organisation.website", "expected an absolute http(s) URL"),
]


def _settings_with(ws: Path, line: str, replacement: str) -> tuple[Path, int]:
    path = ws / "newsletter.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    number = lines.index(line) + 1
    lines[number - 1] = replacement
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, number


@pytest.mark.parametrize("line, replacement, key, words", BAD_SETTINGS, ids=[c[2] + ":" + c[1].strip() for c in BAD_SETTINGS])
def test_a_bad_value_is_refused_at_its_line(sample_ws: Path, line: str, replacement: str, key: str, words: str) -> None:
    path, number = _settings_with(sample_ws, line, replacement)
    with pytest.raises(ValidationFailed) as info:
        load_settings(path)
    (err,) = info.value.errors
    assert (err.line, err.field) == (number, key)
    assert err.column == len(line) - len(line.lstrip()) + 1
    assert words in err.message


@pytest.mark.parametrize("line, replacement, key, words", BAD_SETTINGS, ids=[c[2] + ":" + c[1].strip() for c in BAD_SETTINGS])
def test_newsletter_check_reports_a_bad_setting_at_file_line_col(sample_ws: Path, line: str, replacement: str,
                                                                 key: str, words: str) -> None:
    _, number = _settings_with(sample_ws, line, replacement)
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "check"])
    assert result.exit_code == 1, result.output
    column = len(line) - len(line.lstrip()) + 1
    assert f"newsletter.yaml:{number}:{column}: {key}: " in result.output
    assert words in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("url", ["http://127.0.0.1:8025/u", "http://localhost/u", "http://[::1]:8080/u",
                                 "https://news.example.org/u?list=1"])
def test_loopback_http_and_any_https_url_are_accepted(sample_ws: Path, url: str) -> None:
    path, _ = _settings_with(sample_ws, "  unsubscribe: https://mcin.example.org/newsletter/unsubscribe",
                             f"  unsubscribe: {url}")
    assert load_settings(path).urls.unsubscribe == url


@pytest.mark.parametrize("url", ["http://127.0.0.1.example.org/u", "http://10.0.0.1/u", "ftp://example.org/u",
                                 "javascript:alert(1)", "https:///u"])
def test_other_urls_are_refused(sample_ws: Path, url: str) -> None:
    path, _ = _settings_with(sample_ws, "  unsubscribe: https://mcin.example.org/newsletter/unsubscribe",
                             f"  unsubscribe: '{url}'")
    with pytest.raises(ValidationFailed) as info:
        load_settings(path)
    assert info.value.errors[0].field == "urls.unsubscribe"


def test_mailto_is_kept_as_the_bare_address(sample_ws: Path) -> None:
    path, _ = _settings_with(sample_ws, "  unsubscribe_mailto: unsubscribe@mcin.example.org",
                             "  unsubscribe_mailto: mailto:leave@mcin.example.org")
    assert load_settings(path).urls.unsubscribe_mailto == "leave@mcin.example.org"


def test_every_registered_adapter_name_is_accepted(sample_ws: Path) -> None:
    path = sample_ws / "newsletter.yaml"
    original = path.read_text(encoding="utf-8")
    for name in ADAPTERS:
        path.write_text(original.replace("  adapter: outbox", f"  adapter: {name}"), encoding="utf-8")
        assert load_settings(path).delivery.adapter == name


def test_a_bad_message_id_domain_is_refused(sample_ws: Path) -> None:
    path = sample_ws / "newsletter.yaml"
    path.write_text(path.read_text() + "message_id_domain: not a domain\n")
    with pytest.raises(ValidationFailed) as info:
        load_settings(path)
    assert info.value.errors[0].field == "message_id_domain"


# -- the environment overlay ------------------------------------------------------------------

def test_a_bad_value_from_the_environment_names_the_variable(sample_ws: Path) -> None:
    env = {"NEWSLETTER_SENDER__FROM_ADDRESS": "nobody", "NEWSLETTER_DELIVERY__CONNECTIONS": "many"}
    with pytest.raises(ValidationFailed) as info:
        load_settings(sample_ws / "newsletter.yaml", env)
    shown = {str(e.path): e.field for e in info.value.errors}
    assert shown == {"environment variable NEWSLETTER_SENDER__FROM_ADDRESS": "sender.from_address",
                     "environment variable NEWSLETTER_DELIVERY__CONNECTIONS": "delivery.connections"}


def test_environment_names_any_case_json_values_and_other_variables_left_alone(sample_ws: Path) -> None:
    env = {"newsletter_languages__available": '["en", "fr"]', "NEWSLETTER_LIST_ID": "other.example.org",
           "NEWSLETTER_SECRET_KEY": "k", "NEWSLETTER_CHROMIUM": "/bin/false", "OTHER": "x"}
    settings = load_settings(sample_ws / "newsletter.yaml", env)
    assert settings.languages.available == ["en", "fr"]
    assert settings.list_id == "other.example.org"
    assert settings.languages.default == "en"  # the rest of the section stays as written


def test_overlay_does_not_change_the_data_it_was_given() -> None:
    data = {"sender": {"from_name": "A", "from_address": "a@example.org"}}
    out, origins = environment_overlay(data, {"NEWSLETTER_SENDER__FROM_NAME": "B"})
    assert data["sender"]["from_name"] == "A" and out["sender"] == {"from_name": "B", "from_address": "a@example.org"}
    assert origins == {"sender.from_name": "NEWSLETTER_SENDER__FROM_NAME"}


def test_an_unknown_key_from_the_environment_is_an_error(sample_ws: Path) -> None:
    with pytest.raises(ValidationFailed) as info:
        load_settings(sample_ws / "newsletter.yaml", {"NEWSLETTER_SENDER__FROM_ADRESS": "a@example.org"})
    (err,) = info.value.errors
    assert str(err.path) == "environment variable NEWSLETTER_SENDER__FROM_ADRESS"
    assert "did you mean 'from_address'" in err.message


def test_secrets_from_files_for_password_and_smtp_url(sample_ws: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    (tmp_path / "url").write_text("smtps://me@127.0.0.1:4650\n")
    monkeypatch.delenv("NEWSLETTER_SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("NEWSLETTER_SMTP_URL", raising=False)
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD_FILE", str(tmp_path / "pw"))
    monkeypatch.setenv("NEWSLETTER_SMTP_URL_FILE", str(tmp_path / "url"))
    secrets = load_workspace(sample_ws).secrets
    assert (secrets.smtp_password, secrets.smtp_url) == ("s3cret", "smtps://me@127.0.0.1:4650")


# -- the everyday-address shortcut never disagrees with email-validator ------------------------

from email_validator import EmailNotValidError, validate_email  # noqa: E402
from hypothesis import given, settings as hyp_settings, strategies as st  # noqa: E402

from newsletter.core.config import _PLAIN_ADDRESS, plainly_valid  # noqa: E402


def _accepted(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return True


@hyp_settings(max_examples=400, deadline=None)
@given(st.from_regex(_PLAIN_ADDRESS, fullmatch=True))
def test_an_address_of_the_everyday_shape_is_one_email_validator_accepts(address: str) -> None:
    if plainly_valid(address):
        assert _accepted(address), address


@pytest.mark.parametrize("address", [
    "a@b.test", "a@x.localhost", "a@y.onion", "a@z.invalid", "a@in-addr.arpa", "a@x.local",
    "a..b@example.org", ".a@example.org", "a@-x.org", "a@x-.org", "a@xn--zz.org", "a@example.o",
    "a@example.123", f"{'a' * 65}@example.org", f"a@{'b' * 64}.org", "a@" + "b." * 126 + "org",
])
def test_addresses_the_shortcut_leaves_to_email_validator(address: str) -> None:
    assert not plainly_valid(address)
