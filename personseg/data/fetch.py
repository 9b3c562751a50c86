"""Fetching one file over HTTP for `personseg download`: streamed to a temporary name beside its
destination, checked, and renamed only when the whole body arrived and passed its check; a
dropped connection, a server error or a file that fails its check is tried again, then reported.

`Fetcher` is shared by a thread pool: each thread gets its own `requests.Session`, and setting
`Fetcher.stop` (Ctrl-C) makes every transfer in flight give up at its next chunk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import requests

from personseg.files import atomic_path

TIMEOUT = (10, 60)  # seconds to connect, seconds between two chunks of the body
CHUNK = 1 << 16
RETRIABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}

# a check takes the downloaded temporary file and returns what is wrong with it, or None
Check = Callable[[Path], "str | None"]


class FetchError(Exception):
    """A file that could not be fetched; `str()` says why (after how many attempts)."""


class Stopped(Exception):
    """The fetcher was stopped (Ctrl-C) while this file was in flight; nothing was written."""


class _BadFile(Exception):
    """The body arrived but failed its check (worth another attempt)."""


def describe(exc: Exception) -> str:
    """A short reason for a failed transfer (requests' own messages run to several lines)."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}".strip()
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection dropped mid-file"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if "IncompleteRead" in text or "Connection broken" in text:
            return "connection dropped mid-file"
        if "RemoteDisconnected" in text or "closed connection" in text:
            return "server closed the connection"
        return "could not connect"
    return str(exc)


class Fetcher:
    """Downloads files with `retries` further attempts each, waiting `backoff`, 2×, 4×… seconds."""

    def __init__(self, retries: int = 3, backoff: float = 1.0, user_agent: str = "personseg"):
        self.retries = retries
        self.backoff = backoff
        self.user_agent = user_agent
        self.stop = threading.Event()
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["User-Agent"] = self.user_agent
        return session

    def fetch(self, url: str, dest: Path, check: Check | None = None, progress=None) -> None:
        """Download `url` to `dest` atomically; raise FetchError (or Stopped) if it never succeeds.

        `check(tmp)` vets the body before it gets its name; `progress` (a tqdm bar for this one
        file) counts its bytes.
        """
        attempts = self.retries + 1
        reason = "not tried"
        for attempt in range(attempts):
            if attempt:
                self.stop.wait(self.backoff * 2 ** (attempt - 1))
            if self.stop.is_set():
                raise Stopped(url)
            try:
                self._fetch_once(url, Path(dest), check, progress)
                return
            except _BadFile as exc:
                reason = str(exc)
            except requests.HTTPError as exc:
                reason = describe(exc)
                if exc.response is not None and exc.response.status_code not in RETRIABLE_STATUS:
                    raise FetchError(f"{reason} ({url})") from None
            except requests.RequestException as exc:
                reason = describe(exc)
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        raise FetchError(f"{reason} (after {tries})")

    def _fetch_once(self, url: str, dest: Path, check: Check | None, progress) -> None:
        if progress is not None:  # each attempt counts from zero
            progress.reset()
        with atomic_path(dest) as tmp:
            with self._session().get(url, stream=True, timeout=TIMEOUT) as response:
                response.raise_for_status()
                if progress is not None and response.headers.get("Content-Length", "").isdigit():
                    progress.reset(total=int(response.headers["Content-Length"]))
                with open(tmp, "wb") as file:
                    for chunk in response.iter_content(CHUNK):
                        if self.stop.is_set():
                            raise Stopped(url)
                        file.write(chunk)
                        if progress is not None:
                            progress.update(len(chunk))
            problem = check(tmp) if check is not None else None
            if problem:
                raise _BadFile(problem)
