"""VTIMEZONE components written with yearly RRULEs, built once per process.

icalendar's own `Timezone.from_tzid` writes long RDATE lists, which Outlook and vobject misread.
We probe the zone's transitions in the current year, express each as "the nth (or last) weekday of a
month at a wall-clock time", and check that rule against the real transitions of the surrounding
years. A zone whose rules cannot be written that way (more than two transitions a year, rules that
moved recently) gets no VTIMEZONE: the caller then writes times in UTC, which every client reads right.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from dateutil.rrule import YEARLY, rrule, weekday
from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

from seminar.ical.folding import to_ical

CHECKED_YEARS = 5  # the rule must hold this many years either side of the current one
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@cache
def vtimezone(tzid: str) -> Timezone | None:
    """The VTIMEZONE for `tzid`, or None when times in that zone must be written in UTC."""
    tz = ZoneInfo(tzid)
    year = datetime.now(UTC).year
    transitions = _transitions(tz, year)
    component = Timezone()
    component.add("tzid", tzid)
    if not transitions:
        offset = tz.utcoffset(datetime(year, 1, 1))
        component.add_component(_observance(TimezoneStandard, datetime(1970, 1, 1), offset, offset,
                                            tz.tzname(datetime(year, 1, 1)), None))
        return component
    if len(transitions) != 2:
        return None
    for moment, before, after in transitions:
        local = (moment + before).replace(tzinfo=None)  # the wall-clock time the change happens at
        byday = weekday(local.weekday(), -1 if local.day + 7 > calendar.monthrange(year, local.month)[1]
                        else (local.day - 1) // 7 + 1)
        rule = rrule(YEARLY, bymonth=local.month, byweekday=byday,
                     dtstart=datetime(1970, 1, 1, local.hour, local.minute))
        if not _rule_holds(tz, rule, before, after, year):
            return None
        kind = TimezoneDaylight if after > before else TimezoneStandard
        recur = {"FREQ": "YEARLY", "BYMONTH": local.month, "BYDAY": f"{byday.n}{_DAYS[byday.weekday]}"}
        component.add_component(_observance(kind, rule[0], before, after, moment.astimezone(tz).tzname(), recur))
    return component


@cache
def vtimezone_ical(tzid: str) -> bytes:
    """The serialised VTIMEZONE for `tzid` (empty when times are written in UTC), built once per process."""
    component = vtimezone(tzid)
    return b"" if component is None else to_ical(component)


def _observance(kind, start: datetime, before: timedelta, after: timedelta, name: str | None, recur):
    observance = kind()
    observance.add("dtstart", start)
    if recur:
        observance.add("rrule", vRecur(recur))
    observance.add("tzoffsetfrom", before)
    observance.add("tzoffsetto", after)
    if name:
        observance.add("tzname", name)
    return observance


def _transitions(tz: ZoneInfo, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """(UTC instant, offset before, offset after) of each change of UTC offset during `year`."""
    found = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    previous = day.astimezone(tz).utcoffset()
    while day.year == year:
        following = day + timedelta(days=1)
        offset = following.astimezone(tz).utcoffset()
        if offset != previous:
            low, high = day, following  # narrow down to the minute
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if middle.astimezone(tz).utcoffset() == previous else (low, middle)
            found.append((high, previous, offset))
            previous = offset
        day = following
    return found


def _rule_holds(tz: ZoneInfo, rule: rrule, before: timedelta, after: timedelta, year: int) -> bool:
    for local in rule.between(datetime(year - CHECKED_YEARS, 1, 1), datetime(year + CHECKED_YEARS, 12, 31)):
        moment = (local - before).replace(tzinfo=UTC)
        if (moment - timedelta(minutes=1)).astimezone(tz).utcoffset() != before:
            return False
        if moment.astimezone(tz).utcoffset() != after:
            return False
    return True
