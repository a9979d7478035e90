"""Settings: newsletter.yaml, environment overrides, secrets, workspace discovery."""
from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.core.config import find_workspace, load_settings, load_workspace
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
