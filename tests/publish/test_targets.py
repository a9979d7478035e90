"""Targets: a local folder and an S3-compatible bucket (moto's server mode on loopback, a
real HTTP S3 endpoint): only what changed is written or uploaded, with the right content
types and cache headers."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from PIL import Image

from newsletter.cli import main
from newsletter.core.config import load_workspace
from newsletter.publish.publisher import publish
from newsletter.publish.targets import IMMUTABLE, SHORT, S3Target, cache_control, content_type

BUCKET = "news-site"
NOVEMBER = dt.date(2026, 11, 6)
FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def s3_endpoint(monkeypatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    for key, value in {**FAKE_KEYS, "AWS_ENDPOINT_URL": url}.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3", endpoint_url=url).create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


def keys(url: str) -> dict[str, dict]:
    client = boto3.client("s3", endpoint_url=url)
    out = {}
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        out[obj["Key"]] = client.head_object(Bucket=BUCKET, Key=obj["Key"])
    return out


def test_s3_uploads_everything_then_nothing_then_only_what_changed(sample_ws: Path, s3_endpoint: str) -> None:
    ws = load_workspace(sample_ws)
    first = publish(ws, [], "s3://news-site/newsletter", today=NOVEMBER)
    assert first.site.editions == ["2026-11", "2026-10"]
    assert len(first.report.written) == len(first.site.files) > 10 and first.report.unchanged == 0
    stored = keys(s3_endpoint)
    assert set(stored) == {f"newsletter/{name}" for name in first.site.files}
    hero = next(k for k in stored if k.startswith("newsletter/2026-11/images/hero."))
    assert stored[hero]["ContentType"] == "image/png" and stored[hero]["CacheControl"] == IMMUTABLE
    page = stored["newsletter/2026-11/de.html"]
    assert page["ContentType"] == "text/html; charset=utf-8" and page["CacheControl"] == SHORT
    assert stored["newsletter/feed.de.xml"]["ContentType"] == "application/atom+xml; charset=utf-8"
    ics = next(k for k in stored if k.endswith(".de.ics"))
    assert stored[ics]["ContentType"] == "text/calendar; charset=utf-8" and stored[ics]["CacheControl"] == SHORT

    second = publish(ws, [], "s3://news-site/newsletter", today=NOVEMBER)
    assert second.report.written == [] and second.report.unchanged == len(first.site.files)

    # A corrected image: one new image object, plus the pages and feeds that name it.
    path = sample_ws / "issues" / "2026-11" / "images" / "round-table.png"
    with Image.open(path) as img:
        img = img.convert("RGB")                 # (the sample images are palette PNGs)
    img.putpixel((5, 5), (0, 0, 0))
    img.save(path, "PNG")
    third = publish(load_workspace(sample_ws), [], "s3://news-site/newsletter", today=NOVEMBER)
    images = [p for p in third.report.written if "/images/" in p]
    assert len(images) == 1 and images[0].startswith("2026-11/images/round-table.")
    assert set(third.report.written) - set(images) == {"2026-11/en.html", "2026-11/de.html", "2026-11/es.html",
                                                         "feed.en.xml", "feed.de.xml", "feed.es.xml"}
    assert hero in keys(s3_endpoint)          # nothing is deleted: sent emails still show old images


def test_s3_target_uploads_exactly_the_changed_object(s3_endpoint: str) -> None:
    target = S3Target(BUCKET, "p")
    files = {"index.html": b"<p>1</p>", "2026-11/images/a.0123456789.png": b"png-1", "feed.en.xml": b"<feed/>"}
    assert sorted(target.sync(files).written) == sorted(files)
    files["2026-11/images/b.abcdefabcd.png"] = b"png-2"
    report = target.sync(files)
    assert report.written == ["2026-11/images/b.abcdefabcd.png"] and report.unchanged == 3
    dry = target.sync({**files, "index.html": b"<p>2</p>"}, dry_run=True)
    assert dry.written == ["index.html"]
    assert target.read("index.html") == b"<p>1</p>"                   # the dry run changed nothing


def test_publish_command_to_s3_and_a_clear_error_without_the_bucket(sample_ws: Path, s3_endpoint: str) -> None:
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "publish", "2026-11", "--to", "s3://news-site"])
    assert result.exit_code == 0, result.output
    assert "written, 0 unchanged, in s3://news-site" in result.output
    assert "index.html" in keys(s3_endpoint)
    missing = CliRunner().invoke(main, ["-C", str(sample_ws), "publish", "2026-11", "--to", "s3://no-such-bucket/x"])
    assert missing.exit_code == 1 and "Error: s3://no-such-bucket/x: NoSuchBucket" in missing.output
    assert "Traceback" not in missing.output


def test_local_folder_writes_only_changes_and_dry_run_writes_nothing(sample_ws: Path) -> None:
    dry = CliRunner().invoke(main, ["-C", str(sample_ws), "publish", "2026-11", "--dry-run"])
    assert dry.exit_code == 0 and "would write 2026-11/en.html" in dry.output and not (sample_ws / "site").exists()
    first = CliRunner().invoke(main, ["-C", str(sample_ws), "publish", "2026-11"])
    assert first.exit_code == 0, first.output
    assert "Open site/index.html" in first.output
    assert (sample_ws / "site" / "2026-11" / "es.html").is_file()
    again = CliRunner().invoke(main, ["-C", str(sample_ws), "publish", "2026-11"])
    assert "1 edition(s) in en, de, es: 0 file(s) written" in again.output
    # Without names: 2026-11 stays (site/editions.json), 2026-10 is due; 2026-12 (a draft) is not.
    later = publish(load_workspace(sample_ws), [], today=dt.date(2026, 10, 31))
    assert later.site.editions == ["2026-11", "2026-10"]
    assert all(p.startswith("2026-10/") or p in ("index.html", "index.de.html", "feed.en.xml", "feed.de.xml",
                                                  "editions.json") for p in later.report.written)


def test_content_types_and_cache_rules() -> None:
    assert content_type("a/b.ics") == "text/calendar; charset=utf-8"
    assert content_type("x.jpg") == "image/jpeg" and content_type("editions.json") == "application/json"
    assert cache_control("2026-11/images/hero.0123456789.png") == IMMUTABLE
    assert cache_control("2026-11/images/hero.png") == SHORT and cache_control("index.html") == SHORT


def test_an_unknown_target_scheme_is_refused_with_the_rsync_hint(sample_ws: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "publish", "--to", "sftp://host/x"])
    assert result.exit_code == 1 and "rsync" in result.output
