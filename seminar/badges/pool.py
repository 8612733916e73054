"""Rendering a set of badges: the parts the cache lacks, across a pool of processes, then imposed on sheets.

`render_badges` looks each badge up in the cache (`seminar.badges.cache`), renders the missing ones in
chunks across worker processes (`seminar.badges.render`, parsed once per worker), stores them, and links
the cached parts into the sheets of the layout (`seminar.badges.pdf.impose`).

Workers come from multiprocessing's forkserver, so they are not children of the pool's owner: when the
owner is killed outright (SIGKILL, the OOM killer), nothing tells them, and they would wait for work
forever. So each worker holds the read end of a "lifeline" pipe whose only write end stays in the owner; a
watchdog thread in the worker reads it, gets end-of-file the moment the owner is gone (however it died),
and ends the worker. The forkserver then stops by itself: it runs until every process holding its
"alive" pipe (the owner and the workers it forked) has exited, and multiprocessing's resource tracker
follows it.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from seminar.badges.cache import BadgeCache, MemoryCache, background_key, badge_key
from seminar.badges.layouts import BadgeFormat, Layout, Slot, get_layout
from seminar.badges.pdf import MAGIC, Fragment, impose
from seminar.badges.render import design_fingerprint, process_renderer

if TYPE_CHECKING:
    from seminar.badges.data import BadgeData

# Below this many badges to render, worker processes cost more than they save.
PARALLEL_THRESHOLD = 24
MIN_CHUNK, MAX_CHUNK = 8, 30

ProgressCallback = Callable[[int, int], None]


def render_badge_pdf(badge: BadgeData, badge_format: BadgeFormat | str = "a6", *,
                     cache_dir: str | os.PathLike | None = None) -> bytes:
    """One badge alone on a page of its own size (a reprint at the desk, a registrant's own badge)."""
    if isinstance(badge_format, str):
        badge_format = get_layout(badge_format).badge
    page = Layout(badge_format.name, badge_format, badge_format.width, badge_format.height, (Slot(0, 0),))
    return render_badges([badge], page, cache_dir=cache_dir, workers=1)


def _render_chunk(badges: list[BadgeData], badge_format: BadgeFormat) -> list[bytes]:
    """Worker-process entry point: a chunk of badges, with this process's parsed resources."""
    return [fragment.to_bytes() for fragment in process_renderer().render_foregrounds(badges, badge_format)]


def _warm_up() -> None:
    process_renderer()


def _chunks(items: list, size: int) -> list[list]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _render_foregrounds(badges: list[BadgeData], badge_format: BadgeFormat, *, workers: int,
                        on_rendered: Callable[[list[BadgeData], list[bytes]], None]) -> None:
    if workers <= 1 or len(badges) < PARALLEL_THRESHOLD:
        for chunk in _chunks(badges, MAX_CHUNK):
            on_rendered(chunk, _render_chunk(chunk, badge_format))
        return
    # Chunks share one WeasyPrint document (and font subset); small enough to keep both workers busy
    # and the progress bar moving. Workers start with this module already imported.
    size = max(MIN_CHUNK, min(MAX_CHUNK, math.ceil(len(badges) / (workers * 3))))
    with process_pool(workers, preload=[__name__], initializer=_warm_up) as pool:
        futures = {pool.submit(_render_chunk, chunk, badge_format): chunk for chunk in _chunks(badges, size)}
        for future in as_completed(futures):
            on_rendered(futures[future], future.result())


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover  (not Linux)
        return max(1, os.cpu_count() or 1)


def render_badges(
    badges: Sequence[BadgeData],
    layout: str | Layout = "a4-4",
    *,
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> bytes:
    """The badges on the sheets of `layout`, in order, as PDF bytes.

    Badges found in `cache_dir` are not rendered again; the others are rendered in chunks across
    `workers` processes (default: every core) and stored there. `progress(done, total)` is called as
    badges are ready. Identical badges are rendered once.
    """
    layout = get_layout(layout) if isinstance(layout, str) else layout
    badge_format = layout.badge
    cache = BadgeCache(cache_dir) if cache_dir is not None else MemoryCache()
    design = design_fingerprint()
    keys = [badge_key(badge, badge_format, design) for badge in badges]
    counts = Counter(keys)
    missing = {key: badge for key, badge in zip(keys, badges, strict=True) if key not in cache}
    total = len(badges)
    done = sum(count for key, count in counts.items() if key not in missing)
    if progress:
        progress(done, total)

    def on_rendered(chunk: list[BadgeData], fragments: list[bytes]) -> None:
        nonlocal done
        for badge, fragment in zip(chunk, fragments, strict=True):
            key = badge_key(badge, badge_format, design)
            cache.put(key, background_key(badge, badge_format, design).encode() + fragment)
            done += counts[key]
        if progress:
            progress(done, total)

    if missing:
        _render_foregrounds(list(missing.values()), badge_format, workers=workers or default_workers(),
                            on_rendered=on_rendered)
    _render_backgrounds(badges, badge_format, cache, design)

    def load(key: str) -> Fragment:
        entry = cache.get(key)
        if entry is None:  # removed while we were working (a cache clean-up): too late to render it again
            raise RuntimeError(f"badge {key} vanished from the cache during the export")
        # A badge entry starts with the key of its background (64 hex digits); a background has none.
        return Fragment.from_bytes(entry[64:] if entry[:4] != MAGIC else entry)

    layers = [[background_key(badge, badge_format, design), key] for badge, key in zip(badges, keys, strict=True)]
    return impose(layers, layout, load)


def _render_backgrounds(badges: Sequence[BadgeData], badge_format: BadgeFormat, cache: BadgeCache,
                        design: str) -> None:
    """Renders the shared backgrounds the cache lacks (a handful per event), here in this process."""
    for badge in {background_key(badge, badge_format, design): badge for badge in badges}.values():
        key = background_key(badge, badge_format, design)
        if key not in cache:
            cache.put(key, process_renderer().render_background(badge, badge_format).to_bytes())


@contextmanager
def process_pool(workers: int, *, preload: list[str], initializer: Callable[[], None]
                 ) -> Iterator[ProcessPoolExecutor]:
    """A pool of `workers` forkserver processes, each running `initializer` first; `preload` names the
    modules the forkserver imports once, so that workers start with them loaded (and with no inherited
    threads or database connections). The workers end with the pool, or with this process if it dies."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload)
    lifeline, keep_alive = context.Pipe(duplex=False)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                                 initargs=(lifeline, initializer)) as pool:
            yield pool
    finally:
        keep_alive.close()
        lifeline.close()


def _start_worker(lifeline: Connection, initializer: Callable[[], None]) -> None:
    threading.Thread(target=_exit_with_owner, args=(lifeline,), name="lifeline", daemon=True).start()
    initializer()


def _exit_with_owner(lifeline: Connection) -> None:
    """Blocks until the owner's end of the lifeline closes (nothing is ever sent), then ends this worker."""
    with suppress(EOFError, OSError):
        lifeline.recv_bytes()
    os._exit(1)
