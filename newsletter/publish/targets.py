"""Where the site goes: a local folder (the default, ``site/``) or an S3-compatible bucket
(``s3://bucket/prefix``: AWS S3, MinIO, Ceph, Garage...; credentials and endpoint from the
environment, as boto3 reads them: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL).

Only what changed is written or uploaded. Nothing is ever deleted: emails already sent point
at old images and calendar files, and a hashed image name never changes meaning.
"""
from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from newsletter.core.errors import NewsletterError

log = logging.getLogger(__name__)

HASHED = re.compile(r"\.[0-9a-f]{10}\.(?:png|jpg|gif)$")
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/atom+xml; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".css": "text/css; charset=utf-8",
}
UPLOAD_THREADS = 8


class PublishError(NewsletterError):
    """The site could not be written or uploaded."""


def content_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def cache_control(path: str) -> str:
    """Hashed images never change (a new image gets a new name): cache them for a year.
    Pages, feeds and calendar files change when an edition is corrected: five minutes."""
    return IMMUTABLE if HASHED.search(path) else SHORT


@dataclass
class SyncReport:
    written: list[str] = field(default_factory=list)
    unchanged: int = 0


Progress = Callable[[str], None]


class Target(Protocol):
    def __str__(self) -> str: ...

    def read(self, path: str) -> bytes | None:
        """A file the site already holds, or None."""

    def sync(self, files: dict[str, bytes], dry_run: bool = False, progress: Progress | None = None) -> SyncReport:
        """Write every file that differs from what the target holds."""


def target_for(spec: str, root: Path) -> Target:
    """``s3://bucket/prefix`` or a folder (relative to the workspace)."""
    if spec.startswith("s3://"):
        bucket, _, prefix = spec[len("s3://"):].partition("/")
        if not bucket:
            raise PublishError(f"--to {spec}: expected s3://BUCKET/PREFIX")
        return S3Target(bucket, prefix.strip("/"))
    if "://" in spec:
        raise PublishError(f"--to {spec}: expected a folder or s3://BUCKET/PREFIX (for a web server, "
                           "publish to a folder and copy it with rsync; see docs/publish.md)")
    path = Path(spec)
    return LocalTarget(path if path.is_absolute() else root / path)


class LocalTarget:
    def __init__(self, folder: Path):
        self.folder = folder

    def __str__(self) -> str:
        return str(self.folder)

    def read(self, path: str) -> bytes | None:
        try:
            return (self.folder / path).read_bytes()
        except OSError:
            return None

    def sync(self, files: dict[str, bytes], dry_run: bool = False, progress: Progress | None = None) -> SyncReport:
        report = SyncReport()
        for path, data in sorted(files.items()):
            if self.read(path) == data:
                report.unchanged += 1
                continue
            report.written.append(path)
            if progress:
                progress(path)
            if not dry_run:
                self._write(self.folder / path, data)
        return report

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        # Not core.files.atomic_write: its mkstemp file is mode 0600, and a site copied to a
        # web server with rsync -a would then answer 403; this keeps the umask's mode.
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".part")
            partial.write_bytes(data)
            partial.replace(target)  # a reader never sees half a page
        except OSError as exc:
            raise PublishError(f"cannot write {target}: {exc.strerror}") from None


class S3Target:
    def __init__(self, bucket: str, prefix: str, client=None):
        self.bucket, self.prefix = bucket, prefix
        self._client = client

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    @property
    def client(self):
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def read(self, path: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return self._call(lambda: self.client.get_object(Bucket=self.bucket, Key=self.key(path))["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise self._error(exc) from None

    def etags(self) -> dict[str, str]:
        """Key -> ETag (the MD5 of a single-part upload) of every object under the prefix."""
        out: dict[str, str] = {}
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else "")
        for page in self._call(lambda: list(pages)):
            for obj in page.get("Contents", ()):
                out[obj["Key"]] = obj["ETag"].strip('"')
        return out

    def sync(self, files: dict[str, bytes], dry_run: bool = False, progress: Progress | None = None) -> SyncReport:
        remote = self.etags()
        report = SyncReport()
        changed = []
        for path, data in sorted(files.items()):
            if remote.get(self.key(path)) == hashlib.md5(data, usedforsecurity=False).hexdigest():
                report.unchanged += 1
            else:
                changed.append(path)
        report.written = changed
        if dry_run:
            for path in changed:
                if progress:
                    progress(path)
            return report
        with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
            for path in pool.map(lambda p: self._put(p, files[p]), changed):
                if progress:
                    progress(path)
        return report

    def _put(self, path: str, data: bytes) -> str:
        self._call(lambda: self.client.put_object(
            Bucket=self.bucket, Key=self.key(path), Body=data,
            ContentType=content_type(path), CacheControl=cache_control(path)))
        return path

    def _call(self, action):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return action()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise
            raise self._error(exc) from None
        except BotoCoreError as exc:  # no credentials, no endpoint, a network failure
            raise PublishError(f"{self}: {exc} (credentials and endpoint come from the environment: "
                               "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL; see docs/publish.md)") from None

    def _error(self, exc) -> PublishError:
        err = exc.response.get("Error", {})
        return PublishError(f"{self}: {err.get('Code', 'error')}: {err.get('Message', exc)}")
