"""The import corpus: files written byte for byte, so that a BOM, CRLF line ends or a missing
final newline are exactly what the test says (an editor or git could silently change a stored
text file). Each entry says what the file holds and what importing it must give."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

BOM = b"\xef\xbb\xbf"

PLAIN_HEADER = "email,first_name,last_name,language,country,tags,centre\r\n"

# Every awkward thing at once, in one plain CSV with a BOM and CRLF line ends:
#   line 2      good
#   line 3      invalid address                              -> rejected
#   lines 4-5   a quoted newline inside a cell, good
#   line 6      same person as line 2, domain in capitals    -> duplicate, merged
#   line 7      an international domain                      -> stored in ASCII (punycode)
#   lines 8-9   CR/LF inside a quoted name                   -> neutralised to a space
#   line 10     an encoded-word in the name                  -> rejected (CVE-2024-6923)
#   line 11     no address at all                            -> rejected
#   line 12     good, and the file ends without a newline
AWKWARD_ROWS = [
    'ana.lopez@example.org,Ana,López,es,AR,leader,Centro Rosario',
    'not-an-address,Bea,Ruiz,es,AR,,Centro Rosario',
    'carla@example.net,Carla,Díaz,es,AR,member,"Centro\r\nMendoza"',
    'ana.lopez@EXAMPLE.ORG,,,,,partner,',
    'dieter@bücher.example,Dieter,Müller,de,DE,member,Mütterzentrum',
    '"eva@example.com","Eva\r\nBcc: victim@example.org",Schmidt,de,DE,member,Mütterzentrum',
    'fritz@example.com,"=?utf-8?q?Fritz=0D=0ABcc:_victim@example.org?=",Klein,de,AT,member,EKiZ',
    ',Gabi,Ohne,de,DE,member,EKiZ',
    'hanna@example.org,Hanna,Dömötör,de,HU,member,Anyaközpont',
]


def awkward_csv(folder: Path) -> Path:
    path = folder / "awkward.csv"
    body = PLAIN_HEADER + "\r\n".join(AWKWARD_ROWS)  # no newline after the last row
    path.write_bytes(BOM + body.encode("utf-8"))
    return path


MC_HEADER = ["Email Address", "First Name", "Last Name", "Centre", "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP",
             "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF", "DSTOFF", "TIMEZONE", "CC",
             "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS"]
MC_UNSUB = ["UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON", "UNSUB_REASON_OTHER"]
MC_CLEAN = ["CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID"]


def mc_row(email: str, first: str, last: str, cc: str, tags: str = "", notes: str = "") -> list[str]:
    return [email, first, last, "Mütterzentrum Lindenhof", "2", "2023-02-01 09:15:00", "192.0.2.10",
            "2023-02-01 09:20:11", "198.51.100.7", "48.77", "9.18", "1", "2", "Europe/Berlin", cc, "BW",
            "2024-05-02 10:00:00", "123456", "a1b2c3", notes, tags]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


MC_SUBSCRIBED = [
    MC_HEADER,
    mc_row("hannelore@example.org", "Hannelore", "Brückner", "DE", '"leader","Vorstand"',
           "met in Stuttgart\nlikes cake"),
    mc_row("wanjiru@example.net", "Wanjiru", "Kamau", "KE", '"member"'),
    # Also in the unsubscribed file: the unsubscribe must win.
    mc_row("left@example.com", "Lena", "Weg", "AT", '"member"'),
]
MC_UNSUBSCRIBED = [
    MC_HEADER + MC_UNSUB,
    mc_row("left@example.com", "Lena", "Weg", "AT", '"member"')
    + ["2024-04-30 18:00:00", "April news", "c42", "NORMAL", ""],
    mc_row("gone@example.org", "Gina", "Fort", "CH")
    + ["2024-01-15 08:00:00", "January news", "c40", "OTHER", "too many emails"],
]
MC_CLEANED = [
    MC_HEADER + MC_CLEAN,
    mc_row("bounced@example.org", "Bruno", "Prall", "DE") + ["2024-03-03 03:03:03", "March news", "c41"],
]


def mailchimp_zip(folder: Path) -> Path:
    """An audience export as Mailchimp writes it, one address in two of its files."""
    path = folder / "audience_export_4f2a.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("subscribed_members_export_4f2a.csv", _csv(MC_SUBSCRIBED))
        archive.writestr("unsubscribed_members_export_4f2a.csv", _csv(MC_UNSUBSCRIBED))
        archive.writestr("cleaned_members_export_4f2a.csv", _csv(MC_CLEANED))
    return path


def mailchimp_csv(folder: Path, name: str, rows: list[list[str]]) -> Path:
    path = folder / name
    path.write_text(_csv(rows), encoding="utf-8", newline="")
    return path
