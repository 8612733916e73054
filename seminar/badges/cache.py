"""Rendered badge parts on disk, named by a hash of everything they show and of the design.

A badge is stored as its foreground (names, organisation, round tables, QR code) preceded by the key of
its background, which badges of one event, category and language share and which is stored once.
Nothing here renders or loads WeasyPrint: the housekeeping prunes the cache without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seminar.badges.data import BadgeData
    from seminar.badges.layouts import BadgeFormat


def badge_key(badge: BadgeData, badge_format: BadgeFormat, design: str) -> str:
    """The hash of everything on this badge, its format and the design: its name in the cache."""
    return _digest("badge", asdict(badge), badge_format.name, design)


def background_key(badge: BadgeData, badge_format: BadgeFormat, design: str) -> str:
    """The hash of the part badges share: event, category, language, format and design."""
    shared = [badge.locale, badge.event_title, badge.event_date, badge.category_label, badge.category_colour,
              badge.organiser_logo]
    return _digest("background", shared, badge_format.name, design)


def _digest(*parts) -> str:
    payload = json.dumps(parts, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class BadgeCache:
    """Rendered badge parts on disk, one file per content hash; written atomically, safe to share."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.frag"

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def __contains__(self, key: str) -> bool:
        """Whether the part is here; an export asks before using it, which marks it used now (see `prune`)."""
        try:
            os.utime(self.path(key))
        except FileNotFoundError:
            return False
        return True

    def put(self, key: str, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)

    def prune(self, unused_since: float) -> int:
        """Delete the parts (and left-over temporary files) last used before `unused_since` (a timestamp);
        returns how many files went. An export under way has just marked the parts it uses."""
        removed = 0
        for path in [*self.directory.glob("*/*.frag"), *self.directory.glob("*/.tmp-*")]:
            try:
                if path.stat().st_mtime < unused_since:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # another clean-up took it
                continue
        return removed


class MemoryCache(BadgeCache):
    """The same, in memory: for renderings that keep nothing (no cache directory given)."""

    def __init__(self):
        self.entries: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.entries.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def put(self, key: str, data: bytes) -> None:
        self.entries[key] = data
