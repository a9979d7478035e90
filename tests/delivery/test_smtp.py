"""The SMTP adapter on its own, against real aiosmtpd servers on 127.0.0.1."""
from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest

from tests.support.smtp_servers import free_port
from tests.support.delivery import composer_for, make_recipients, sample_settings
from newsletter.compose.qp import MessageBytes
from newsletter.core.config import Workspace
from newsletter.delivery import AdapterError, ConnectionLost, RecipientState, get_adapter
from newsletter.delivery.console import ConsoleAdapter
from newsletter.delivery.outbox import OutboxAdapter
from newsletter.delivery.smtp import SmtpAdapter, SmtpConfig, dot_stuff, parse_smtp_url
from newsletter.core.errors import ConfigError
from newsletter.render.variant import RenderedVariant

FROM = "news@mcin.example.org"


@pytest.fixture(scope="module")
def message() -> bytes:
    return composer_for(sample_settings()).compose(make_recipients(1)[0])


def smtp(port: int, **kw) -> SmtpAdapter:
    return SmtpAdapter(parse_smtp_url(f"smtp://127.0.0.1:{port}", timeout=5), **kw)


# -- the URL -------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.example.org", SmtpConfig("mail.example.org", 25, "none")),
    ("smtp://127.0.0.1:2525", SmtpConfig("127.0.0.1", 2525, "none")),
    ("smtp+starttls://me%40example.org:p%C3%A4ss@mail.example.org:587",
     SmtpConfig("mail.example.org", 587, "starttls", "me@example.org", "päss")),
    ("smtp+starttls://me@mail.example.org", SmtpConfig("mail.example.org", 587, "starttls", "me", "from-env")),
    ("smtps://me:pw@mail.example.org", SmtpConfig("mail.example.org", 465, "tls", "me", "pw")),
])
def test_smtp_urls(url, expected):
    assert parse_smtp_url(url, password="from-env") == expected


@pytest.mark.parametrize("url, message", [
    ("http://mail.example.org", "expected one of smtp://, smtp\\+starttls://, smtps://; got http://"),
    ("mail.example.org:25", "got no scheme|no host name"),
    ("smtp://", "no host name"),
    ("smtp://host:99999", "port"),
    ("smtp://me@host", "no password is set; set NEWSLETTER_SMTP_PASSWORD"),
    ("smtp://host/path?x=1", "expected only scheme, user, password, host and port"),
])
def test_bad_smtp_urls_say_what_was_expected(url, message):
    with pytest.raises(ConfigError, match=message):
        parse_smtp_url(url)


def test_password_never_appears_in_errors_or_descriptions():
    with pytest.raises(ConfigError) as err:
        parse_smtp_url("ftp://me:hunter2@host")
    assert "hunter2" not in str(err.value) and "***" in str(err.value)
    assert "hunter2" not in SmtpAdapter(parse_smtp_url("smtps://me:hunter2@host")).describe()
    assert "hunter2" not in repr(parse_smtp_url("smtps://me:hunter2@host"))


def test_get_adapter_chooses_by_name(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "k")
    monkeypatch.setenv("NEWSLETTER_SMTP_URL", "smtp+starttls://me@mail.example.org:587")
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "pw")
    ws = Workspace(tmp_path, sample_settings())
    assert isinstance(get_adapter("outbox", ws), OutboxAdapter)
    assert get_adapter("outbox", ws).directory == tmp_path / "outbox"
    assert isinstance(get_adapter("console", ws), ConsoleAdapter)
    adapter = get_adapter("smtp", ws)
    assert isinstance(adapter, SmtpAdapter)
    assert (adapter.config.username, adapter.config.password, adapter.max_parallel) == ("me", "pw", 2)
    with pytest.raises(ConfigError, match="unknown adapter 'smpt'; did you mean 'smtp'"):
        get_adapter("smpt", ws)


def test_smtp_adapter_without_url_says_where_to_set_it(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "k")
    monkeypatch.delenv("NEWSLETTER_SMTP_URL", raising=False)
    with pytest.raises(ConfigError, match="delivery.smtp_url .* NEWSLETTER_SMTP_URL"):
        get_adapter("smtp", Workspace(tmp_path, sample_settings()))


# -- connecting ----------------------------------------------------------------------------------

def test_wrong_password_stops_at_open(starttls_server, client_tls):
    config = parse_smtp_url(f"smtp+starttls://me@127.0.0.1:{starttls_server.port}", password="wrong", timeout=5)
    with pytest.raises(AdapterError, match="refused the login: 535"):
        SmtpAdapter(config, ssl_context=client_tls).open()


def test_untrusted_certificate_stops_at_open(starttls_server):
    config = parse_smtp_url(f"smtp+starttls://127.0.0.1:{starttls_server.port}", timeout=5)
    with pytest.raises(AdapterError, match="certificate is not trusted"):
        SmtpAdapter(config).open()   # the default context does not trust the test certificate


def test_starttls_required_but_not_offered(smtp_server):
    config = parse_smtp_url(f"smtp+starttls://127.0.0.1:{smtp_server.port}", timeout=5)
    with pytest.raises(AdapterError, match="does not offer STARTTLS"):
        SmtpAdapter(config).open()


def test_nobody_listening_is_a_connection_to_wait_for():
    # Not an AdapterError (which pauses a campaign at once): the runner backs off and retries.
    with pytest.raises(ConnectionLost, match="cannot connect to smtp://127.0.0.1"):
        smtp(free_port()).open()


def test_a_server_that_never_answers_times_out():
    with socket.socket() as listener:   # accepts connections (backlog) but never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        config = parse_smtp_url(f"smtp://127.0.0.1:{listener.getsockname()[1]}", timeout=0.3)
        with pytest.raises(ConnectionLost, match="timed out"):
            SmtpAdapter(config).open()


# -- sending -------------------------------------------------------------------------------------

def test_one_connection_serves_many_messages(smtp_server, message):
    with smtp(smtp_server.port) as adapter:
        for _ in range(10):
            assert adapter.send(message, FROM, ["a@example.org"])[0].status is RecipientState.SENT
    assert adapter.connections_opened == 1
    assert len({m.peer for m in smtp_server.handler.messages}) == 1


def test_connection_closed_by_the_server_is_reopened(any_server, message):
    any_server.handler.drop_every = 3
    with smtp(any_server.port) as adapter:
        results = [adapter.send(message, FROM, [f"r{i}@example.org"])[0] for i in range(7)]
    assert all(r.status is RecipientState.SENT for r in results)
    assert any_server.handler.per_address() == {f"r{i}@example.org": 1 for i in range(7)}
    assert adapter.connections_opened > 1


def test_answer_lost_after_the_message_went_out_is_uncertain(any_server, message):
    any_server.handler.drop_after_data = {"lost@example.org"}
    with smtp(any_server.port) as adapter:
        with pytest.raises(ConnectionLost) as err:
            adapter.send(message, FROM, ["lost@example.org"])
        assert err.value.uncertain
        assert adapter.send(message, FROM, ["next@example.org"])[0].status is RecipientState.SENT
    assert any_server.handler.per_address() == {"lost@example.org": 1, "next@example.org": 1}


def test_replies_per_recipient(any_server, message):
    any_server.handler.temporary["later@example.org"] = 1
    any_server.handler.permanent.add("gone@example.org")
    with smtp(any_server.port) as adapter:
        ok, later, gone = adapter.send(message, FROM, ["ok@example.org", "later@example.org", "gone@example.org"])
    assert (ok.status, ok.code, ok.stage) == (RecipientState.SENT, 250, "data")
    assert (later.status, later.code, later.hard_bounce) == (RecipientState.FAILED_TEMPORARY, 451, False)
    assert (gone.status, gone.code, gone.hard_bounce) == (RecipientState.FAILED_PERMANENT, 550, True)
    assert gone.reply == "550 5.1.1 <gone@example.org>: user unknown"
    assert any_server.handler.messages[0].rcpt_tos == ["ok@example.org"]


def test_everyone_refused_sends_no_data(any_server, message):
    any_server.handler.permanent.add("gone@example.org")
    with smtp(any_server.port) as adapter:
        assert adapter.send(message, FROM, ["gone@example.org"])[0].status is RecipientState.FAILED_PERMANENT
        assert adapter.send(message, FROM, ["ok@example.org"])[0].status is RecipientState.SENT
    assert any_server.handler.per_address() == {"ok@example.org": 1}


def test_lines_starting_with_a_dot_arrive_intact(any_server):
    data = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: dots\r\n\r\n"
            b".\r\n..two\r\n.x\r\nend\r\n")
    with smtp(any_server.port) as adapter:
        adapter.send(data, FROM, ["b@example.org"])
    assert any_server.handler.messages[0].data == data


def test_a_composed_message_with_dots_arrives_intact_without_stuffing(any_server):
    # The composer writes a "." that would start a line as "=2E", so the adapter sends its
    # messages without dot-stuffing them; what arrives is exactly what was composed and
    # decodes to the text with its dots.
    text = ".NET meetup\n...\n.\nend\n"
    html = "<p>\n.hidden</p>\n"
    variant = RenderedVariant("2026-11", "en", (), "Dots", "", html, text, {})
    data = composer_for(sample_settings(), variant).compose(make_recipients(1)[0])
    assert isinstance(data, MessageBytes) and dot_stuff(data) is data
    with smtp(any_server.port) as adapter:
        adapter.send(data, FROM, ["reader1@example.org"])
    received = any_server.handler.messages[0]
    assert received.data == data
    plain, rich = (part.get_content().replace("\r\n", "\n") for part in received.message.iter_parts())
    assert plain == text and rich == html


def test_smtputf8_only_when_offered(smtp_server, smtputf8_server, message):
    with smtp(smtp_server.port) as adapter:
        (result,) = adapter.send(message, FROM, ["jörg@example.org"])
    assert result.status is RecipientState.FAILED_PERMANENT and "SMTPUTF8" in result.reply
    assert not smtp_server.handler.messages
    with smtp(smtputf8_server.port) as adapter:
        assert adapter.send(message, FROM, ["jörg@example.org"])[0].status is RecipientState.SENT
        assert adapter.send(message, FROM, ["plain@example.org"])[0].status is RecipientState.SENT
    assert [m.rcpt_tos for m in smtputf8_server.handler.messages] == [["jörg@example.org"], ["plain@example.org"]]


def test_connections_in_parallel_never_exceed_the_pool(smtp_server, message):
    import threading
    adapter = smtp(smtp_server.port, connections=3)
    with adapter:
        threads = [threading.Thread(target=lambda: [adapter.send(message, FROM, ["p@example.org"]) for _ in range(5)])
                   for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert smtp_server.handler.count("p@example.org") == 30
    assert adapter.connections_opened <= 3
    assert len({m.peer for m in smtp_server.handler.messages}) <= 3


def test_ssl_context_defaults_to_verifying():
    adapter = SmtpAdapter(parse_smtp_url("smtps://host"))
    assert adapter._context.verify_mode == ssl.CERT_REQUIRED and adapter._context.check_hostname


def test_pipelining_is_used_when_offered(any_server, message, monkeypatch):
    from newsletter.delivery import smtp as smtp_module

    calls = []
    original = smtp_module._Connection._pipelined
    monkeypatch.setattr(smtp_module._Connection, "_pipelined",
                        lambda self, *a: calls.append(1) or original(self, *a))
    with smtp(any_server.port) as adapter:
        assert adapter.send(message, FROM, ["a@example.org", "b@example.org"])[0].status is RecipientState.SENT
    assert len(calls) == (1 if any_server.handler.pipelining else 0)
    assert any_server.handler.messages[0].rcpt_tos == ["a@example.org", "b@example.org"]
