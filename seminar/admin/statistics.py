"""Dashboard figures for one event (a few grouped queries, whatever the number of registrants) and the
server-rendered SVG charts that show them (pure functions, escaped text, no script)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from markupsafe import Markup, escape
from sqlalchemy import func, select

from seminar.events.models import Category, Event, SessionKind
from seminar.extensions import db
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.registration.models import Registration, RegistrationStatus, SessionSeat


@dataclass
class Counts:
    confirmed: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    # Round tables only: chosen by people waiting for the event (they count in neither confirmed nor waitlisted).
    wish: int = 0
    checked_in: int = 0

    @property
    def total(self) -> int:
        return self.confirmed + self.waitlisted + self.cancelled


@dataclass
class EventStatistics:
    event: Counts
    round_tables: list[tuple[object, Counts]]
    per_day: list[tuple[date, int]] = field(default_factory=list)
    per_category: list[tuple[str, int, str]] = field(default_factory=list)


@dataclass
class UndeliveredMail:
    """An e-mail given up on: to whom, its subject ('' if it could not even be written), why, and when it
    was last tried. Nothing of its body, which holds the registrant's self-service link."""

    to_addr: str
    subject: str
    last_error: str
    tried_at: datetime


def undelivered_mail(event_id: int, limit: int = 20) -> tuple[list[UndeliveredMail], int]:
    """The event's e-mails marked failed, last tried first (at most `limit`), and how many there are."""
    failed = (OutboxMessage.event_id == event_id) & (OutboxMessage.status == OutboxStatus.failed)
    tried_at = func.coalesce(OutboxMessage.claimed_at, OutboxMessage.created_at)
    rows = db.session.execute(
        select(OutboxMessage.to_addr, OutboxMessage.subject, OutboxMessage.last_error, tried_at)
        .where(failed).order_by(tried_at.desc(), OutboxMessage.id.desc()).limit(limit)
    ).all()
    total = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(failed))
    return [UndeliveredMail(*row) for row in rows], total


def _bucket(rows) -> dict:
    counts: dict = {}
    for key, status, checked_in, n in rows:
        c = counts.setdefault(key, Counts())
        setattr(c, status.value, getattr(c, status.value) + n)
        if checked_in and status.name != "cancelled":
            c.checked_in += n
    return counts


def event_statistics(event: Event, locale: str = "fr") -> EventStatistics:
    checked = Registration.checked_in_at.is_not(None)
    reg_rows = db.session.execute(
        select(Registration.event_id, Registration.status, checked, func.count())
        .where(Registration.event_id == event.id)
        .group_by(Registration.event_id, Registration.status, checked)
    ).all()
    round_tables = [s for s in event.sessions if s.kind is SessionKind.round_table]
    seat_rows = db.session.execute(
        select(SessionSeat.session_id, SessionSeat.status, checked, func.count())
        .join(Registration, Registration.id == SessionSeat.registration_id)
        .where(Registration.event_id == event.id)
        .group_by(SessionSeat.session_id, SessionSeat.status, checked)
    ).all()
    seats = _bucket(seat_rows)
    created = db.session.scalars(select(Registration.created_at).where(
        Registration.event_id == event.id, Registration.status != RegistrationStatus.cancelled))
    per_day = Counter(event.local(moment).date() for moment in created)
    by_category = dict(db.session.execute(
        select(Registration.category_id, func.count())
        .where(Registration.event_id == event.id, Registration.status != RegistrationStatus.cancelled)
        .group_by(Registration.category_id)
    ).all())
    categories = db.session.scalars(select(Category).where(Category.event_id == event.id)
                                    .order_by(Category.position)).all()
    per_category = [(c.label_for(locale), by_category.get(c.id, 0), c.colour) for c in categories]
    if by_category.get(None):
        per_category.append(("—", by_category[None], "#888888"))
    return EventStatistics(
        event=_bucket(reg_rows).get(event.id, Counts()),
        round_tables=[(s, seats.get(s.id, Counts())) for s in round_tables],
        per_day=sorted(per_day.items()),
        per_category=per_category,
    )


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    # Every text placed in `body` is escaped where it is built; numbers are formatted by us.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>{"".join(body)}</svg>'
    )


def timeline_svg(per_day: list[tuple[date, int]], *, label: str, width: int = 640, height: int = 200) -> Markup:
    """Registrations per day as columns, with the cumulative total as a line."""
    if not per_day:
        return _svg(width, height, label, [])
    pad_left, pad_bottom, pad_top = 40, 24, 10
    plot_w, plot_h = width - pad_left - 10, height - pad_bottom - pad_top
    total = sum(n for _, n in per_day)
    top = max(max(n for _, n in per_day), 1)
    step = plot_w / len(per_day)
    body = [f'<line x1="{pad_left}" y1="{pad_top + plot_h}" x2="{width - 10}" y2="{pad_top + plot_h}" '
            f'stroke="#57606a"/>',
            f'<text x="{pad_left - 6}" y="{pad_top + 10}" text-anchor="end" font-size="11">{top}</text>',
            f'<text x="{pad_left - 6}" y="{pad_top + plot_h}" text-anchor="end" font-size="11">0</text>']
    running, points = 0, []
    for i, (day, n) in enumerate(per_day):
        h = plot_h * n / top
        x = pad_left + i * step
        body.append(f'<rect x="{x + step * 0.1:.1f}" y="{pad_top + plot_h - h:.1f}" width="{step * 0.8:.1f}" '
                    f'height="{h:.1f}" fill="#173f73"><title>{day.isoformat()}: {n}</title></rect>')
        running += n
        points.append(f"{x + step / 2:.1f},{pad_top + plot_h - plot_h * running / total:.1f}")
    body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#b3261e" stroke-width="2"/>')
    for i in sorted({0, len(per_day) - 1}):
        anchor = "start" if i == 0 else "end"
        x = pad_left if i == 0 else width - 10
        body.append(f'<text x="{x}" y="{height - 6}" text-anchor="{anchor}" font-size="11">'
                    f'{per_day[i][0].isoformat()}</text>')
    return _svg(width, height, label, body)


def bars_svg(rows: list[tuple[str, int, str]], *, label: str, width: int = 640) -> Markup:
    """Horizontal bars, one per (label, count, colour)."""
    bar_h, gap, label_w = 18, 8, 260
    height = max(len(rows) * (bar_h + gap) + gap, 30)
    top = max([n for _, n, _ in rows] + [1])
    body = []
    for i, (text, n, colour) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = (width - label_w - 50) * n / top
        short = text if len(text) <= 36 else text[:35] + "…"  # fits label_w at 12px
        colour = colour if colour.startswith("#") and len(colour) == 7 else "#555555"
        body.append(f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" font-size="12">{escape(short)}</text>'
                    f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{escape(colour)}">'
                    f'<title>{escape(text)}: {n}</title></rect>'
                    f'<text x="{label_w + w + 6:.1f}" y="{y + 13}" font-size="12">{n}</text>')
    return _svg(width, height, label, body)
