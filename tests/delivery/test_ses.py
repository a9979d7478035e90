"""The SES adapter against moto's server mode and a stub of the SES v2 API, both on 127.0.0.1:
bytes arrive unchanged, pacing, throttling, rejections, paused accounts, and SES's MessageId
in the send journal."""
from __future__ import annotations

import time
from pathlib import Path

import dkim as dkimpy
import pytest

from newsletter.campaign.journal import CampaignStatus, Journal
from newsletter.delivery.states import RecipientState
from newsletter.campaign.runner import CampaignRunner, RunOptions
from newsletter.compose import dkim as signing
from newsletter.compose.composer import Composer
from newsletter.core.config import load_workspace
from newsletter.delivery import get_adapter
from newsletter.delivery.base import AdapterError
from newsletter.delivery.replies import Verdict
from newsletter.delivery.ses import Pacer, SesAdapter, SesConfig
from tests.support.delivery import KEY, composer_for, make_recipients, sample_settings, small_variant

FROM = "bounces@mcin.example.org"
FAST = RunOptions(connections=3, retry_for_seconds=5, first_backoff_seconds=0.01, max_backoff_seconds=0.05,
                  max_consecutive_failures=20)


def ses(url: str, **kw) -> SesAdapter:
    kw.setdefault("backoff", 0.01)
    kw.setdefault("backoff_max", 0.05)
    return SesAdapter(SesConfig(region="eu-central-1", endpoint_url=url, timeout=10, **kw))


# -- against moto ---------------------------------------------------------------------------

def test_signed_messages_arrive_byte_for_byte(moto_ses):
    signer = signing.DkimSigner(signing.generate_key("rsa"), "mcin.example.org", "ses")
    composer = Composer(small_variant(), sample_settings(), KEY, clock=composer_for(sample_settings())._clock,
                        campaign="1", dkim=signer)
    people = make_recipients(5)
    sent = {}
    with ses(moto_ses.url) as adapter:
        for person in people:
            message = bytes(composer.compose(person))
            result = adapter.send(message, FROM, [person.email])[0]
            assert result.verdict is Verdict.DELIVERED and result.status is RecipientState.SENT and result.message_id
            sent[result.message_id] = (message, person.email)
    arrived = moto_ses.sent()
    assert len(arrived) == len(people)
    record = signer.dns_record().encode()
    for raw in arrived:
        message, address = sent[raw.id]
        assert raw.raw_data.encode("utf-8") == message
        assert address in raw.destinations   # moto adds the To header's address; SES sends to Destination only
        assert dkimpy.verify(raw.raw_data.encode("utf-8"), dnsfunc=lambda *a, **k: record)


def test_a_message_moto_rejects_fails_its_recipients_for_this_campaign(moto_ses):
    """moto's own MessageRejected (more than 50 recipients for one message): each recipient
    failed for this campaign, not a hard bounce, and nothing sent."""
    message = bytes(composer_for(sample_settings()).compose(make_recipients(1)[0]))
    many = [f"r{i}@example.org" for i in range(51)]
    with ses(moto_ses.url) as adapter:
        results = adapter.send(message, FROM, many)
    assert [r.recipient for r in results] == many
    assert all(r.verdict is Verdict.FAILED and r.status is RecipientState.FAILED_PERMANENT and not r.hard_bounce
               and "MessageRejected" in r.reply and "Too many recipients" in r.reply for r in results)
    assert not moto_ses.sent()


def test_message_rejected_by_moto_fails_that_recipient_only(moto_ses, monkeypatch, tmp_path):
    """A MessageRejected from moto's endpoint (its own error, over HTTP) for one recipient's
    message, in a campaign: that recipient is failed permanently with SES's words, is not
    counted as a hard bounce, and the others are sent."""
    from moto.ses.exceptions import MessageRejectedError
    from moto.ses.models import SESBackend

    real = SESBackend.send_raw_email

    def send_raw_email(backend, source, destinations, raw_data):
        if "reader2@example.org" in destinations:
            raise MessageRejectedError("Message rejected: the message contains a virus")
        return real(backend, source, destinations, raw_data)

    monkeypatch.setattr(SESBackend, "send_raw_email", send_raw_email)
    journal = Journal(tmp_path / "j.sqlite3")
    campaign = journal.create_campaign("2026-11", "all", "ses")
    bounced = []
    with ses(moto_ses.url) as adapter:
        summary = CampaignRunner(journal, adapter, {"en": composer_for(sample_settings())}, envelope_from=FROM,
                                 options=RunOptions(connections=1),
                                 on_hard_bounce=bounced.append).run(campaign.id, make_recipients(3))
    rows = {r.subscriber: r for r in journal.rows(campaign.id)}
    assert summary.sent == 2 and summary.failed_permanent == 1 and summary.paused is None
    assert rows["2"].status is RecipientState.FAILED_PERMANENT and "MessageRejected" in rows["2"].reply
    assert "contains a virus" in rows["2"].reply
    assert rows["1"].status == rows["3"].status == RecipientState.SENT
    assert not bounced
    assert sorted(m.destinations[0] for m in moto_ses.sent()) == ["reader1@example.org", "reader3@example.org"]


def test_pacing_keeps_to_the_configured_rate(moto_ses):
    composer = composer_for(sample_settings())
    messages = [bytes(composer.compose(p)) for p in make_recipients(11)]
    with ses(moto_ses.url, max_send_rate=20) as adapter:
        assert adapter.rate == 20 and adapter.rate_source == "ses.max_send_rate"
        start = time.monotonic()
        for m in messages:
            adapter.send(m, FROM, ["x@example.org"])
        elapsed = time.monotonic() - start
    assert elapsed >= 10 / 20 * 0.95    # 11 sends = 10 intervals of 50 ms at least
    assert len(moto_ses.sent()) == 11


def test_pacer_spaces_callers_across_threads():
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    pacer = Pacer(4, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        pacer.wait()
    assert slept == [0.25, 0.5, 0.75]
    assert Pacer(None, sleep=sleep).wait() is None and len(slept) == 3


def test_an_unverified_sender_pauses_rather_than_failing_each_recipient(moto_ses):
    message = bytes(composer_for(sample_settings()).compose(make_recipients(1)[0]))
    with ses(moto_ses.url) as adapter, pytest.raises(AdapterError, match="verify the domain"):
        adapter.send(message, "news@not-verified.example.net", ["x@example.org"])
    assert moto_ses.sent() == []


def test_missing_credentials_are_a_clear_error(moto_ses, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(AdapterError, match="no AWS credentials found"):
        ses(moto_ses.url).open()


def test_the_workspace_chooses_ses_by_name(sample_ws: Path, moto_ses):
    settings_file = sample_ws / "newsletter.yaml"
    settings_file.write_text(settings_file.read_text().replace("adapter: outbox", "adapter: ses")
                             + f"ses:\n  region: eu-central-1\n  endpoint_url: {moto_ses.url}\n"
                               "  configuration_set: newsletter\n  max_send_rate: 5\n")
    moto_ses.client.create_configuration_set(ConfigurationSetName="newsletter")
    ws = load_workspace(sample_ws)
    with get_adapter(ws.settings.delivery.adapter, ws) as adapter:
        assert isinstance(adapter, SesAdapter) and adapter.rate == 5
        assert "Amazon SES" in adapter.describe() and "testing-secret" not in adapter.describe()
        message = bytes(composer_for(ws.settings).compose(make_recipients(1)[0]))
        assert adapter.send(message, FROM, ["a@example.org"])[0].status is RecipientState.SENT


# -- against the stub -----------------------------------------------------------------------

def test_throttling_then_success_gives_one_delivery_per_recipient(ses_stub, tmp_path):
    ses_stub.script = [(429, "TooManyRequestsException", "Maximum sending rate exceeded."),
                       (400, "Throttling", "Maximum sending rate exceeded."),
                       (503, "ServiceUnavailable", "try again"),
                       (429, "TooManyRequestsException", "Maximum sending rate exceeded.")]
    journal = Journal(tmp_path / "j.sqlite3")
    campaign = journal.create_campaign("2026-11", "all", "ses")
    people = make_recipients(6)
    with ses(ses_stub.url) as adapter:
        summary = CampaignRunner(journal, adapter, {"en": composer_for(sample_settings())},
                                 envelope_from=FROM, options=FAST).run(campaign.id, people)
    assert summary.sent == 6
    delivered = [tuple(r["Destination"]["ToAddresses"]) for r in ses_stub.delivered]
    assert sorted(delivered) == sorted((p.email,) for p in people)
    assert len(ses_stub.sends) == 6 + 4
    # SES's MessageId is in the journal, and finds the recipient again.
    ids = {journal.by_provider_message_id(f"stub-{n:04d}") for n in range(1, 7)}
    assert {(campaign.id, str(p.id), p.email) for p in people} == ids
    assert journal.by_provider_message_id("stub-9999") is None


def test_throttling_that_does_not_end_is_a_temporary_failure(ses_stub):
    ses_stub.script = [(429, "TooManyRequestsException", "slow down")] * 50
    message = bytes(composer_for(sample_settings()).compose(make_recipients(1)[0]))
    with ses(ses_stub.url, retry_for=0.1) as adapter:
        result = adapter.send(message, FROM, ["a@example.org"])[0]
    assert result.verdict is Verdict.TEMPORARY and result.status is RecipientState.FAILED_TEMPORARY and "slow down" in result.reply and not ses_stub.delivered


def test_message_rejected_fails_that_recipient_only(ses_stub, tmp_path):
    ses_stub.script = [(400, "MessageRejected", "Email address is on the suppression list")]
    journal = Journal(tmp_path / "j.sqlite3")
    campaign = journal.create_campaign("2026-11", "all", "ses")
    with ses(ses_stub.url) as adapter:
        summary = CampaignRunner(journal, adapter, {"en": composer_for(sample_settings())}, envelope_from=FROM,
                                 options=RunOptions(connections=1)).run(campaign.id, make_recipients(3))
    rows = {r.subscriber: r for r in journal.rows(campaign.id)}
    assert summary.sent == 2 and summary.failed_permanent == 1
    assert rows["1"].status is RecipientState.FAILED_PERMANENT and "suppression list" in rows["1"].reply
    assert rows["2"].status == rows["3"].status == RecipientState.SENT


@pytest.mark.parametrize("kind, words", [
    ("AccountSendingPausedException", "sending is paused"),
    ("SendingPausedException", "sending is paused"),
    ("AccountSuspendedException", "suspended"),
    ("MailFromDomainNotVerifiedException", "MAIL FROM domain is not verified"),
])
def test_a_paused_account_pauses_the_campaign(ses_stub, tmp_path, kind, words):
    ses_stub.script = [(400, kind, "Sending paused for this account.")]
    journal = Journal(tmp_path / "j.sqlite3")
    campaign = journal.create_campaign("2026-11", "all", "ses")
    with ses(ses_stub.url) as adapter:
        summary = CampaignRunner(journal, adapter, {"en": composer_for(sample_settings())}, envelope_from=FROM,
                                 options=RunOptions(connections=1)).run(campaign.id, make_recipients(3))
    assert summary.sent == 0 and summary.paused and words in summary.paused
    assert journal.campaign(campaign.id).status == CampaignStatus.PAUSED
    assert not ses_stub.delivered


def test_the_accounts_rate_is_read_and_a_setting_overrides_it(ses_stub):
    ses_stub.account = {"SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 3.0},
                        "SendingEnabled": True, "ProductionAccessEnabled": True}
    with ses(ses_stub.url) as adapter:
        assert adapter.rate == 14 and adapter.rate_source == "the account's MaxSendRate"
        assert "14 messages/s" in adapter.describe()
    with ses(ses_stub.url, max_send_rate=3) as adapter:
        assert adapter.rate == 3 and adapter.rate_source == "ses.max_send_rate"


def test_without_get_account_the_setting_or_no_pace_is_used(ses_stub):
    ses_stub.account = None
    with ses(ses_stub.url) as adapter:
        assert adapter.rate is None
    with ses(ses_stub.url, max_send_rate=2) as adapter:
        assert adapter.rate == 2


def test_an_account_with_sending_disabled_refuses_to_open(ses_stub):
    ses_stub.account = {"SendQuota": {"MaxSendRate": 14.0}, "SendingEnabled": False}
    with pytest.raises(AdapterError, match="sending is paused"):
        ses(ses_stub.url).open()
