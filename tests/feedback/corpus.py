"""Bounce and report messages generated for the tests, shaped like what real MTAs and
mailbox providers send: RFC 3464 DSNs (with the whole original message, with only its
headers, with none), RFC 5965 abuse reports, RFC 3834 auto-replies, a qmail bounce, mailto
unsubscribe requests and garbage."""
from __future__ import annotations

from email.message import EmailMessage
from itertools import count

_serial = count(1)


def _mid(tag: str) -> str:
    return f"<{tag}.{next(_serial)}@reports.test>"


def _status_part(subtype: str, blocks: list[dict[str, str]]) -> str:
    """A message/delivery-status or message/feedback-report part: header blocks as text."""
    text = "\r\n".join("".join(f"{k}: {v}\r\n" for k, v in block.items()) for block in blocks)
    return f"Content-Type: message/{subtype}\r\n\r\n{text}"


def _report(report_type: str, to: str, subject: str, human: str, machine: str,
            original: bytes | None, headers_only: bool, extra: dict[str, str] | None = None) -> bytes:
    """A multipart/report written out by hand, the way MTAs write it."""
    boundary = f"report-{next(_serial)}"
    head = {"From": "Mail Delivery System <MAILER-DAEMON@mx.example.net>", "To": to, "Subject": subject,
            "Message-ID": _mid(report_type), "Date": "Tue, 03 Nov 2026 09:05:00 +0000", **(extra or {}),
            "MIME-Version": "1.0",
            "Content-Type": f'multipart/report; report-type={report_type}; boundary="{boundary}"'}
    parts = [f"Content-Type: text/plain; charset=utf-8\r\n\r\n{human}", machine]
    if original is not None:
        if headers_only:
            quoted = original.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace") + "\r\n"
            parts.append(f"Content-Type: text/rfc822-headers\r\n\r\n{quoted}")
        else:
            parts.append("Content-Type: message/rfc822\r\n\r\n" + original.decode("utf-8", "replace"))
    text = "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\nThis is a MIME-encapsulated message.\r\n"
    text += "".join(f"\r\n--{boundary}\r\n{part}" for part in parts) + f"\r\n--{boundary}--\r\n"
    return text.encode("utf-8")


def dsn(to: str, recipient: str, *, action: str = "failed", status: str | None = "5.1.1",
        diagnostic: str | None = "smtp; 550 5.1.1 <{r}>: Recipient address rejected: User unknown",
        original: bytes | None = None, headers_only: bool = False, delivered_to: str | None = None) -> bytes:
    """An RFC 3464 report about ``recipient``, sent to ``to`` (the return path)."""
    block = {"Final-Recipient": f"rfc822; {recipient}", "Action": action}
    if status:
        block["Status"] = status
    if diagnostic:
        block["Remote-MTA"] = "dns; mx.example.net"
        block["Diagnostic-Code"] = diagnostic.format(r=recipient)
    machine = _status_part("delivery-status", [{"Reporting-MTA": "dns; relay.example.net"}, block])
    extra = {"Auto-Submitted": "auto-replied"}
    if delivered_to:
        extra["Delivered-To"] = delivered_to
    subject = "Delayed Mail (still being retried)" if action == "delayed" else "Undelivered Mail Returned to Sender"
    return _report("delivery-status", to, subject, f"Delivery to {recipient} {action}.\n", machine,
                   original, headers_only, extra)


def arf(to: str, *, original: bytes | None, rcpt: str | None = None, mail_from: str | None = None,
        feedback_type: str = "abuse", headers_only: bool = False) -> bytes:
    """An RFC 5965 abuse report as a mailbox provider's feedback loop sends it."""
    block = {"Feedback-Type": feedback_type, "User-Agent": "ExampleFBL/1.0", "Version": "1"}
    if mail_from:
        block["Original-Mail-From"] = f"<{mail_from}>"
    if rcpt:
        block["Original-Rcpt-To"] = f"<{rcpt}>"
    machine = _status_part("feedback-report", [block])
    return _report("feedback-report", to, "Abuse report", "This is an email abuse report.\n", machine,
                   original, headers_only)


def vacation(sender: str, to: str, *, auto_submitted: bool = True) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = "Out of office: back on 14 November"
    msg["Message-ID"] = _mid("vacation")
    if auto_submitted:
        msg["Auto-Submitted"] = "auto-replied"
    else:
        msg["X-Autoreply"] = "yes"
    msg.set_content("I am away until 14 November and will read your message then.\n")
    return bytes(msg)


def mailto_unsubscribe(sender: str, to: str, subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = _mid("unsubscribe")
    msg.set_content("This message was sent by the unsubscribe link of my mail program.\n")
    return bytes(msg)


def qmail_bounce(to: str, recipient: str) -> bytes:
    """qmail's plain-text bounce: no DSN at all (flufl.bounce knows it)."""
    msg = EmailMessage()
    msg["From"] = "MAILER-DAEMON@qmail.example.net"
    msg["To"] = to
    msg["Subject"] = "failure notice"
    msg["Message-ID"] = _mid("qmail")
    msg.set_content(
        "Hi. This is the qmail-send program at qmail.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{recipient}>:\n"
        "Sorry, no mailbox here by that name. (#5.1.1)\n\n"
        "--- Below this line is a copy of the message.\n\n"
        "Subject: November news\n")
    return bytes(msg)


def garbage(to: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "someone@example.com"
    msg["To"] = to
    msg["Subject"] = "Question about the mother centre in Lindenhof"
    msg["Message-ID"] = _mid("garbage")
    msg.set_content("Hello, could you tell me the opening times of the centre? Thanks!\n")
    return bytes(msg)
