"""One contract, every adapter: the same tests run against outbox, console, SMTP (plain,
STARTTLS + AUTH, implicit TLS + AUTH, each against a real aiosmtpd server on 127.0.0.1) and
SES (moto's server mode on 127.0.0.1)."""
from __future__ import annotations

import io
import threading
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Callable

import pytest

from tests.support.delivery import PASSWORD, USER, composer_for, make_recipients, sample_settings
from newsletter.delivery import Adapter, RecipientState, SendResult
from newsletter.delivery.console import ConsoleAdapter
from newsletter.delivery.outbox import OutboxAdapter
from newsletter.delivery.ses import SesAdapter, SesConfig
from newsletter.delivery.smtp import SmtpAdapter, parse_smtp_url

FROM = "news@mcin.example.org"
Delivered = Callable[[], list[tuple[str, str]]]   # -> [(Message-ID, Subject)] as they arrived


@pytest.fixture(scope="module")
def composer():
    return composer_for(sample_settings())


def ids_and_subjects(raw_messages: list[bytes]) -> list[tuple[str, str]]:
    parser = BytesParser(policy=policy.default)
    return [(str(m["Message-ID"]), str(m["Subject"])) for m in map(parser.parsebytes, raw_messages)]


class AdapterContract:
    """What every adapter promises. Subclasses provide the fixtures ``adapter`` and
    ``delivered`` (what arrived at the other end, as (Message-ID, Subject))."""

    def message(self, composer, n: int = 1) -> tuple[bytes, str, str]:
        r = make_recipients(1, start=n)[0]
        return composer.compose(r), composer.message_id(r), f"November news for Reader{n}"

    def test_one_result_per_recipient_in_order(self, adapter: Adapter, composer):
        data, _, _ = self.message(composer)
        with adapter:
            results = adapter.send(data, FROM, ["b@example.org", "a@example.org"])
        assert [r.recipient for r in results] == ["b@example.org", "a@example.org"]
        assert all(isinstance(r, SendResult) and r.status is RecipientState.SENT and r.reply for r in results)

    def test_message_arrives_once_and_whole(self, adapter: Adapter, composer, delivered: Delivered):
        data, msgid, subject = self.message(composer, 7)
        with adapter:
            adapter.send(data, FROM, ["reader7@example.org"])
        assert delivered() == [(msgid, subject)]

    def test_sends_without_open_and_close_is_idempotent(self, adapter: Adapter, composer, delivered: Delivered):
        data, msgid, _ = self.message(composer, 2)
        assert adapter.send(data, FROM, ["reader2@example.org"])[0].status is RecipientState.SENT
        adapter.close()
        adapter.close()
        assert [m for m, _ in delivered()] == [msgid]

    def test_can_be_reopened_after_close(self, adapter: Adapter, composer, delivered: Delivered):
        for n in (3, 4):
            with adapter:
                data, _, _ = self.message(composer, n)
                adapter.send(data, FROM, [f"reader{n}@example.org"])
        assert len(delivered()) == 2

    def test_threads_can_send_at_once(self, adapter: Adapter, composer, delivered: Delivered):
        messages = [self.message(composer, n) for n in range(10, 30)]
        errors: list[BaseException] = []

        def send(batch):
            try:
                for data, _, _ in batch:
                    assert adapter.send(data, FROM, ["x@example.org"])[0].status is RecipientState.SENT
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        with adapter:
            threads = [threading.Thread(target=send, args=(messages[i::4],)) for i in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert not errors
        assert sorted(m for m, _ in delivered()) == sorted(m for _, m, _ in messages)

    def test_describe_shows_no_secret(self, adapter: Adapter):
        assert adapter.describe() and PASSWORD not in adapter.describe()


class TestOutbox(AdapterContract):
    @pytest.fixture
    def adapter(self, tmp_path: Path) -> Adapter:
        return OutboxAdapter(tmp_path / "outbox")

    @pytest.fixture
    def delivered(self, tmp_path: Path) -> Delivered:
        def read():
            files = sorted((tmp_path / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
            return ids_and_subjects([f.read_bytes() for f in files])
        return read


class TestConsole(AdapterContract):
    @pytest.fixture
    def stream(self) -> io.StringIO:
        return io.StringIO()

    @pytest.fixture
    def adapter(self, stream) -> Adapter:
        return ConsoleAdapter(stream)

    @pytest.fixture
    def delivered(self, stream) -> Delivered:
        def read():
            out = []
            for line in stream.getvalue().splitlines():
                msgid = line.split("<", 1)[1].split(">", 1)[0]
                out.append((f"<{msgid}>", line.split(">  ", 1)[1]))
            return out
        return read


class TestSmtp(AdapterContract):
    @pytest.fixture
    def adapter(self, smtp_server) -> Adapter:
        return SmtpAdapter(parse_smtp_url(f"smtp://127.0.0.1:{smtp_server.port}", timeout=5), connections=4)

    @pytest.fixture
    def delivered(self, smtp_server) -> Delivered:
        return lambda: ids_and_subjects([m.data for m in smtp_server.handler.messages])


class TestSmtpStartTlsAuth(AdapterContract):
    @pytest.fixture
    def adapter(self, starttls_server, client_tls) -> Adapter:
        url = f"smtp+starttls://{USER.replace('@', '%40')}@127.0.0.1:{starttls_server.port}"
        return SmtpAdapter(parse_smtp_url(url, password=PASSWORD, timeout=5), connections=2,
                           ssl_context=client_tls)

    @pytest.fixture
    def delivered(self, starttls_server) -> Delivered:
        def read():
            messages = starttls_server.handler.messages
            assert all(m.tls and m.authenticated for m in messages)
            return ids_and_subjects([m.data for m in messages])
        return read


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # see smtps_server
class TestSmtpsAuth(AdapterContract):
    @pytest.fixture
    def adapter(self, smtps_server, client_tls) -> Adapter:
        url = f"smtps://{USER.replace('@', '%40')}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{smtps_server.port}"
        return SmtpAdapter(parse_smtp_url(url, timeout=5), connections=2, ssl_context=client_tls)

    @pytest.fixture
    def delivered(self, smtps_server) -> Delivered:
        def read():
            messages = smtps_server.handler.messages
            assert all(m.tls and m.authenticated for m in messages)
            return ids_and_subjects([m.data for m in messages])
        return read


class TestSes(AdapterContract):
    @pytest.fixture
    def adapter(self, moto_ses) -> Adapter:
        return SesAdapter(SesConfig(region="eu-central-1", endpoint_url=moto_ses.url, timeout=10))

    @pytest.fixture
    def delivered(self, moto_ses) -> Delivered:
        return lambda: ids_and_subjects([m.raw_data.encode("utf-8") for m in moto_ses.sent()])
