"""Whole answers cached per patient, for the pages patients reload most (docs/performance.md).

Rendering the dashboard is most of its cost, and between two visits it rarely changes. An answer
is stored under a key made of everything it depends on, so a changed input is a different key and
never a stale answer:
- the patient and their `page_version`, which the database changes whenever their reservations or
  their professionals' names or notice change (reservations migration 0004);
- what the page shows of the patient (name, email, time zone), the language and the exact URL;
- the caller's extra parts (the CSRF secret of the browser, for pages with forms; the variant);
- this release's code, templates, translations and static files (`release()`).
What depends on the clock is handled by expiry: each entry carries the moment it stops being
true (a session starts or ends, a cancellation deadline passes, midnight changes "tomorrow" into
"today"), computed by the view that stored it; from then on it is rendered again.

The cache is settings.CACHES["default"]: Redis when REDIS_URL is set (shared by all server
processes), else each process's own memory; each process also keeps its most recently used
entries (settings.PAGE_CACHE_PROCESS_BYTES). If the cache fails, pages are rendered as if it were
empty: a cache outage makes the site slower, never wrong.
"""

import hashlib
import logging
import threading
from collections import OrderedDict
from datetime import timedelta
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

PREFIX = "page:"
# An entry is never kept longer than this, whatever its expiry: a bound on memory, not on truth.
MAX_AGE = timedelta(days=1)
_SOURCE_SUFFIXES = {".py", ".html", ".txt", ".mo", ".json", ".css", ".js"}


@lru_cache(maxsize=1)
def release():
    """A fingerprint of what renders pages in this release: our code, templates, translations and
    static files, and the versions of the libraries whose output ends up in them. Computed once
    per process; a deploy changes it, so no page of the previous release is served after it."""
    libraries = " ".join(metadata.version(name) for name in ("django", "django-htmx"))
    digest = hashlib.sha256(libraries.encode())
    base = Path(settings.BASE_DIR)
    roots = ("accounts", "api", "locale", "reservations", "reservations_site", "static")
    for root in (*roots, "templates"):
        for path in sorted((base / root).rglob("*")):
            if path.suffix in _SOURCE_SUFFIXES and path.is_file():
                digest.update(str(path.relative_to(base)).encode())
                digest.update(path.read_bytes())
    manifest = Path(settings.STATIC_ROOT or base / "staticfiles") / "staticfiles.json"
    if manifest.is_file():
        digest.update(manifest.read_bytes())
    return digest.hexdigest()[:16]


def key(request, *parts):
    """The cache key of this request's answer for the logged-in patient (see the module doc)."""
    user = request.user
    raw = "\x1f".join(
        [
            release(),
            str(settings.DEFAULT_CANCELLATION_NOTICE_HOURS),
            str(user.pk),
            str(user.page_version),
            user.email,
            user.first_name,
            user.time_zone,
            get_language() or "",
            request.get_full_path(),
            *parts,
        ]
    )
    return PREFIX + hashlib.sha256(raw.encode()).hexdigest()


class _Recent:
    """This process's most recently used entries, in front of the shared cache.

    An entry never changes under its key (the key names the content), so a copy in memory is as
    true as the shared one, and each hit saves a Redis round trip and unpickling: about a tenth
    of a cached dashboard's cost. Bounded in bytes, least recently used out first."""

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self._entries = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key, entry):
        size = len(entry[1])
        if size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self._bytes += size - (len(old[1]) if old else 0)
            self._entries[key] = entry
            while self._bytes > self.max_bytes:
                _, (_, body) = self._entries.popitem(last=False)
                self._bytes -= len(body)

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._bytes = 0


recent = _Recent(max_bytes=settings.PAGE_CACHE_PROCESS_BYTES)


def get(cache_key, now):
    """The stored body if it is still true at `now`, else None."""
    entry = recent.get(cache_key)
    if entry is None:
        try:
            entry = cache.get(cache_key)
        except Exception:  # a cache outage must not take the page down with it
            logger.warning("page cache unavailable (get)", exc_info=True)
            return None
        if entry is None:
            return None
        recent.put(cache_key, entry)
    valid_until, body = entry
    return body if now < valid_until else None


def put(cache_key, body, now, valid_until):
    """Store `body` as true from now until `valid_until` (exclusive)."""
    valid_until = min(valid_until, now + MAX_AGE)
    seconds = (valid_until - now).total_seconds()
    if seconds < 1:
        return
    recent.put(cache_key, (valid_until, body))
    try:
        cache.set(cache_key, (valid_until, body), timeout=int(seconds) + 1)
    except Exception:
        logger.warning("page cache unavailable (set)", exc_info=True)


def clear():
    """Forget every cached page, shared and in this process (tests; a cache flush)."""
    recent.clear()
    cache.clear()
