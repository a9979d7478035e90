"""Issue 16: a subscriber's value that would make a link anything but http(s) or mailto
(imported from a spreadsheet: 'javascript:...', 'data:...', or just a centre's name) gets the
link's default, and the send summary says how many did. Real CLI, real SQLite, outbox adapter."""
from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

from click.testing import CliRunner

from newsletter.cli import main

VALUES = ["javascript:alert(document.cookie)", "data:text/html;base64,PHNjcmlwdD4=", "Lindenhof",
          "https://lindenhof.example.org/", "", "mailto:lindenhof@example.org"]


def test_bad_link_values_fall_back_and_are_counted_in_the_summary(sample_ws: Path, monkeypatch) -> None:
    edition = sample_ws / "issues" / "2026-11" / "edition.yaml"
    text = edition.read_text(encoding="utf-8")
    text = text.replace('for {{ attributes.centre or "your Mother Centre" }}',
                        'for [your centre]({{ attributes.centre or "https://mcin.example.org/centres" }})', 1)
    edition.write_text(text, encoding="utf-8")
    runner = CliRunner()
    # The sample requires approval: the English text changed, so the translations are signed off again.
    assert runner.invoke(main, ["-C", str(sample_ws), "approve", "2026-11", "--lang", "de,es"]).exit_code == 0
    rows = ["email,first_name,language,tags,centre"] + [f'p{i}@example.org,P{i},en,leader,"{v}"'
                                                        for i, v in enumerate(VALUES)]
    (sample_ws / "people.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert runner.invoke(main, ["-C", str(sample_ws), "subscribers", "import", str(sample_ws / "people.csv")]).exit_code == 0
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "k" * 32)
    result = runner.invoke(main, ["-C", str(sample_ws), "send", "2026-11", "-s", "all", "--adapter", "outbox", "--yes"])
    assert result.exit_code == 0, result.output
    hrefs = []
    for path in sorted((sample_ws / "outbox").rglob("*.eml")):
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        html = msg.get_body(("html",)).get_content()
        if "your centre</a>" in html:
            hrefs.append(html.split("your centre</a>")[0].rsplit('href="', 1)[1].split('"')[0])
    assert len(hrefs) == len(VALUES), result.output
    assert not any(h.startswith(("javascript", "data", "Lindenhof")) for h in hrefs)
    assert "https://lindenhof.example.org/" in hrefs and "mailto:lindenhof@example.org" in hrefs
    # the three bad values fall back; an empty value takes the default as merge fields do
    assert hrefs.count("https://mcin.example.org/centres") == 4
    shown = [line for line in result.output.splitlines() if "link(s) got their default" in line]
    assert shown and sum(int(line.split()[0]) for line in shown) == 3
