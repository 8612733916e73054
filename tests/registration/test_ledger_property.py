"""The seat ledger after any sequence of changes, on SQLite and PostgreSQL.

A state machine registers, cancels, changes round tables, leaves waiting lists, promotes (automatically and by an
organiser's choice), restores and changes capacities, all through the real services, on a small event with small
round tables. After every step it reads the rows (not the counters) and checks:

1. capacity: the confirmed that an organiser did not confirm beyond capacity (`overbooked`) never exceed it;
2. only a confirmed registration holds confirmed or waitlisted seats, a waitlisted one's choices are wishes, a
   cancelled one holds nothing;
3. no place is left idle while someone waits for it (the event, each round table);
4. the waiting lists are served in order: those promoted are older, by (created_at, id), than those still waiting;
5. the counters on Event and Session equal a recount of the rows.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from seminar.events.models import Event, Session
from seminar.events.programme import ProgrammeError
from seminar.extensions import db
from seminar.registration import services
from seminar.registration.models import Registration, RegistrationSource, RegistrationStatus, SeatStatus, SessionSeat
from seminar.registration.services import RegistrationError
from tests.registration.conftest import details
from tests.registration.ledger_helpers import create_event_with_round_tables, set_event_capacity, set_session_capacity

CONFIRMED, WAITLISTED, CANCELLED = (RegistrationStatus.confirmed, RegistrationStatus.waitlisted,
                                    RegistrationStatus.cancelled)
LIVE_SEAT = (SeatStatus.confirmed, SeatStatus.waitlisted, SeatStatus.wish)


# --- the ledger as the rows say it is --------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """An event or a session: its capacity and its two counters as stored."""
    capacity: int | None
    confirmed_count: int
    waitlisted_count: int


@dataclass(frozen=True)
class Entry:
    """A registration, or a seat: its status, and its place in the queue, (created_at, id)."""
    status: RegistrationStatus | SeatStatus
    queue: tuple[datetime, int]
    overbooked: bool = False  # registrations only


@dataclass(frozen=True)
class Ledger:
    event: Place
    sessions: dict[int, Place]
    registrations: dict[int, Entry]
    seats: dict[tuple[int, int], Entry]  # by (registration id, session id)

    def live_seats(self, registration_id: int) -> dict[int, SeatStatus]:
        return {session_id: seat.status for (owner, session_id), seat in self.seats.items()
                if owner == registration_id and seat.status in LIVE_SEAT}

    def registrations_with(self, status: RegistrationStatus) -> dict[int, Entry]:
        return {i: r for i, r in self.registrations.items() if r.status is status}

    def seats_with(self, session_id: int, status: SeatStatus) -> dict[int, Entry]:
        """The session's seats of that status, by registration id."""
        return {owner: s for (owner, sid), s in self.seats.items() if sid == session_id and s.status is status}


def read_ledger(event_id: int) -> Ledger:
    """The event's rows as committed (whatever a service left pending is rolled back first, as at the end of a
    request)."""
    db.session.remove()
    event = Place(*db.session.execute(
        select(Event.capacity, Event.confirmed_count, Event.waitlisted_count).where(Event.id == event_id)).one())
    sessions = {row[0]: Place(*row[1:]) for row in db.session.execute(
        select(Session.id, Session.capacity, Session.confirmed_count, Session.waitlisted_count)
        .where(Session.event_id == event_id))}
    registrations = {row.id: Entry(row.status, (row.created_at, row.id), row.overbooked) for row in db.session.execute(
        select(Registration.id, Registration.status, Registration.created_at, Registration.overbooked)
        .where(Registration.event_id == event_id))}
    seats = {(row.registration_id, row.session_id): Entry(row.status, (row.created_at, row.id))
             for row in db.session.execute(
                 select(SessionSeat.id, SessionSeat.registration_id, SessionSeat.session_id, SessionSeat.status,
                        SessionSeat.created_at)
                 .join(Registration, Registration.id == SessionSeat.registration_id)
                 .where(Registration.event_id == event_id))}
    db.session.remove()
    return Ledger(event, sessions, registrations, seats)


def recount(ledger: Ledger) -> tuple[Place, dict[int, Place]]:
    """The event and its sessions with counters recounted from the rows."""
    event = Place(ledger.event.capacity, len(ledger.registrations_with(CONFIRMED)),
                  len(ledger.registrations_with(WAITLISTED)))
    sessions = {sid: Place(s.capacity, len(ledger.seats_with(sid, SeatStatus.confirmed)),
                           len(ledger.seats_with(sid, SeatStatus.waitlisted)))
                for sid, s in ledger.sessions.items()}
    return event, sessions


def has_room(place: Place, confirmed: int) -> bool:
    return place.capacity is None or confirmed < place.capacity


# --- the invariants ------------------------------------------------------------------------------------

def check_capacity(ledger: Ledger) -> None:
    """1. Those not confirmed beyond capacity by an organiser fit (`overbooked` is recorded per registration)."""
    counted = {i for i, r in ledger.registrations_with(CONFIRMED).items() if not r.overbooked}
    if ledger.event.capacity is not None:
        assert len(counted) <= ledger.event.capacity, f"event: {len(counted)} confirmed > {ledger.event.capacity}"
    for sid, session in ledger.sessions.items():
        seated = ledger.seats_with(sid, SeatStatus.confirmed).keys() & counted
        if session.capacity is not None:
            assert len(seated) <= session.capacity, f"session {sid}: {len(seated)} confirmed > {session.capacity}"


def check_seats_follow_registration(ledger: Ledger) -> None:
    """2. Confirmed and waitlisted seats belong to confirmed registrations, wishes to waitlisted ones; a cancelled
    registration holds no live seat."""
    expected = {SeatStatus.confirmed: CONFIRMED, SeatStatus.waitlisted: CONFIRMED, SeatStatus.wish: WAITLISTED}
    for (owner, sid), seat in ledger.seats.items():
        if seat.status in expected:
            status = ledger.registrations[owner].status
            assert status is expected[seat.status], (
                f"registration {owner} is {status.name} and holds a {seat.status.name} seat in session {sid}")


def check_no_idle_room(ledger: Ledger) -> None:
    """3. Nobody waits for a place that is free."""
    event, sessions = recount(ledger)
    waiting = ledger.registrations_with(WAITLISTED)
    assert not (has_room(event, event.confirmed_count) and waiting), (
        f"event has room ({event.confirmed_count}/{event.capacity}) while {sorted(waiting)} wait")
    for sid, session in sessions.items():
        waiting = {owner for owner in ledger.seats_with(sid, SeatStatus.waitlisted)
                   if ledger.registrations[owner].status is CONFIRMED}
        assert not (has_room(session, session.confirmed_count) and waiting), (
            f"session {sid} has room ({session.confirmed_count}/{session.capacity}) while {sorted(waiting)} wait")


def check_counters(ledger: Ledger) -> None:
    """5. The counters equal the recount."""
    event, sessions = recount(ledger)
    assert ledger.event == event, f"event counters {ledger.event} != recount {event}"
    for sid, session in sessions.items():
        assert ledger.sessions[sid] == session, f"session {sid} counters {ledger.sessions[sid]} != recount {session}"


def check_served_in_order(before: Ledger, after: Ledger, chosen: tuple[int, int | None] | None = None) -> None:
    """4. Of those waiting before a change, the ones it promoted are all older, by (created_at, id), than the ones
    still waiting. A round table's queue includes the wishes of those the change confirmed for the event, at the
    time the wish was made. `chosen`: the registration, or its seat in a session, that an organiser promoted
    deliberately, out of order."""
    exempt = chosen[0] if chosen and chosen[1] is None else None
    queue = {i: r.queue for i, r in before.registrations_with(WAITLISTED).items()}
    status = {i: after.registrations[i].status for i in queue}
    served_in_order("event", queue, {i for i in queue if status[i] is CONFIRMED and i != exempt},
                    {i for i in queue if status[i] is WAITLISTED})
    for sid in before.sessions:
        exempt = chosen[0] if chosen and chosen[1] == sid else None
        queue = {owner: seat.queue for (owner, seat_sid), seat in before.seats.items()
                 if seat_sid == sid and seat.status in (SeatStatus.waitlisted, SeatStatus.wish)}
        status = {owner: after.seats[(owner, sid)].status for owner in queue}
        served_in_order(f"session {sid}", queue,
                        {o for o in queue if status[o] is SeatStatus.confirmed and o != exempt},
                        {o for o in queue if status[o] is SeatStatus.waitlisted})


def served_in_order(where: str, queue: dict[int, tuple[datetime, int]], promoted: set[int], waiting: set[int]) -> None:
    if promoted and waiting:
        last, first = max(promoted, key=queue.get), min(waiting, key=queue.get)
        assert queue[last] < queue[first], (
            f"{where}: {last} (queued {queue[last]}) was promoted while {first} (queued {queue[first]}) still waits")


def check_ledger(ledger: Ledger) -> None:
    check_capacity(ledger)
    check_seats_follow_registration(ledger)
    check_no_idle_room(ledger)
    check_counters(ledger)


# --- the state machine ---------------------------------------------------------------------------------

PEOPLE = st.integers(0, 7)  # a small pool of addresses: some register again
TABLE_PICKS = st.lists(st.integers(0, 2), unique=True, max_size=3)  # indices into the round tables
CAPACITIES = st.sampled_from([0, 1, 2, 3, 4, 5, None])  # None (no limit) now and then, not every other time


class LedgerMachine(RuleBasedStateMachine):
    registrations = Bundle("registrations")

    @initialize(capacity=st.integers(1, 4), table_capacities=st.lists(st.integers(1, 2), min_size=2, max_size=3))
    def create_event(self, capacity, table_capacities):
        self.event_id, self.tables = create_event_with_round_tables(capacity, table_capacities)
        self.ledger = read_ledger(self.event_id)
        check_ledger(self.ledger)

    def _tables(self, picks: list[int]) -> list[int]:
        return [self.tables[i] for i in picks if i < len(self.tables)]

    def _table(self, pick: int | None) -> int | None:
        return None if pick is None else self.tables[pick % len(self.tables)]

    def _after(self, chosen: tuple[int, int | None] | None = None) -> Ledger:
        before, after = self.ledger, read_ledger(self.event_id)
        check_ledger(after)
        check_served_in_order(before, after, chosen)
        self.ledger = after
        return after

    def _unchanged(self) -> None:
        """A refused request changed nothing."""
        before = self.ledger
        assert self._after() == before, "a refused request changed the ledger"

    def _register(self, person: int, picks: list[int], shout: bool, source: RegistrationSource,
                  overbook: bool) -> int:
        email = f"person{person}@example.org"
        chosen = self._tables(picks)
        before = self.ledger
        outcome = services.register(self.event_id, details(person, email=email.upper() if shout else email),
                                    chosen, source=source, overbook=overbook)
        after = self._after()
        registration_id = outcome.registration_id
        previous = before.registrations.get(registration_id)
        if previous is not None and previous.status is not CANCELLED:  # the address is registered already
            assert after == before
        else:
            assert after.registrations[registration_id].status is outcome.status is not CANCELLED
            assert after.live_seats(registration_id).keys() == set(chosen)
            if overbook:
                assert outcome.status is CONFIRMED
                assert set(after.live_seats(registration_id).values()) <= {SeatStatus.confirmed}
        return registration_id

    @rule(target=registrations, people=st.lists(st.tuples(PEOPLE, TABLE_PICKS, st.booleans()), min_size=1,
                                                 max_size=3))
    def register(self, people):
        """People register on the public form, one after the other (an address may come again, in capitals)."""
        return multiple(*(self._register(person, picks, shout, RegistrationSource.web, overbook=False)
                          for person, picks, shout in people))

    @rule(target=registrations, person=PEOPLE, picks=TABLE_PICKS, overbook=st.booleans())
    def register_by_organiser(self, person, picks, overbook):
        return self._register(person, picks, False, RegistrationSource.organiser, overbook)

    @rule(registration_id=registrations)
    def cancel(self, registration_id):
        was = self.ledger.registrations[registration_id].status
        services.cancel(registration_id)
        if was is CANCELLED:
            self._unchanged()
        else:
            assert self._after().registrations[registration_id].status is CANCELLED

    @rule(registration_id=registrations, picks=TABLE_PICKS)
    def change_sessions(self, registration_id, picks):
        was = self.ledger.registrations[registration_id].status
        chosen = self._tables(picks)
        try:
            services.change_sessions(registration_id, chosen)
        except RegistrationError:
            assert was is CANCELLED
            return self._unchanged()
        assert was is not CANCELLED
        after = self._after()
        assert after.registrations[registration_id].status is was
        assert after.live_seats(registration_id).keys() == set(chosen)

    @rule(registration_id=registrations, pick=st.none() | st.integers(0, 2))
    def leave_waitlist(self, registration_id, pick):
        session_id = self._table(pick)
        if session_id is None:
            was = self.ledger.registrations[registration_id].status
            must = may = was is WAITLISTED
        else:
            seat = self.ledger.seats.get((registration_id, session_id))
            was = seat and seat.status
            must = was is SeatStatus.waitlisted
            may = must or was is SeatStatus.wish  # whether a wish can be given up this way is the service's choice
        try:
            services.leave_waitlist(registration_id, session_id)
        except RegistrationError:
            assert not must, f"refused to take {registration_id} off the waiting list of {session_id or 'the event'}"
            return self._unchanged()
        assert may, f"took {registration_id} ({was}) off the waiting list of {session_id or 'the event'}"
        after = self._after()
        if session_id is None:
            assert after.registrations[registration_id].status is CANCELLED
        else:
            assert after.seats[(registration_id, session_id)].status is SeatStatus.cancelled

    @rule(pick=st.none() | st.integers(0, 2))
    def promote_from_waitlist(self, pick):
        services.promote_from_waitlist(self.event_id, self._table(pick))
        self._after()

    @rule(registration_id=registrations, pick=st.none() | st.integers(0, 2))
    def promote_registration(self, registration_id, pick):
        """The organiser's choice, beyond capacity: with the waiting lists served, whoever waits waits for a full
        place, so a promotion is always recorded as `overbooked`."""
        session_id = self._table(pick)
        if session_id is None:
            must = may = self.ledger.registrations[registration_id].status is WAITLISTED
        else:
            seat = self.ledger.seats.get((registration_id, session_id))
            must = bool(seat) and seat.status is SeatStatus.waitlisted
            may = must or (bool(seat) and seat.status is SeatStatus.wish)
        try:
            services.promote_registration(registration_id, session_id=session_id)
        except RegistrationError:
            assert not must, f"refused to promote {registration_id} in {session_id or 'the event'}"
            return self._unchanged()
        assert may, f"promoted {registration_id} in {session_id or 'the event'}, who was not waiting there"
        after = self._after(chosen=(registration_id, session_id))
        promoted = after.registrations[registration_id]
        assert promoted.status is CONFIRMED
        if session_id is not None:
            assert after.seats[(registration_id, session_id)].status is SeatStatus.confirmed
        if must:
            assert promoted.overbooked

    @rule(capacity=CAPACITIES)
    def change_event_capacity(self, capacity):
        confirmed = len(self.ledger.registrations_with(CONFIRMED))
        try:
            set_event_capacity(self.event_id, capacity)
        except ProgrammeError:
            assert capacity is not None and capacity < confirmed, f"refused capacity {capacity} ({confirmed} in)"
            return self._unchanged()
        assert capacity is None or capacity >= confirmed, f"accepted capacity {capacity} below {confirmed} confirmed"
        assert self._after().event.capacity == capacity

    @rule(pick=st.integers(0, 2), capacity=CAPACITIES)
    def change_table_capacity(self, pick, capacity):
        session_id = self._table(pick)
        confirmed = len(self.ledger.seats_with(session_id, SeatStatus.confirmed))
        try:
            set_session_capacity(session_id, capacity)
        except ProgrammeError:
            assert capacity is not None and capacity < confirmed, f"refused capacity {capacity} ({confirmed} in)"
            return self._unchanged()
        assert capacity is None or capacity >= confirmed, f"accepted capacity {capacity} below {confirmed} confirmed"
        assert self._after().sessions[session_id].capacity == capacity

    @rule(registration_id=registrations)
    def restore(self, registration_id):
        was = self.ledger.registrations[registration_id].status
        status = services.restore(registration_id)
        if was is not CANCELLED:
            assert status is was
            return self._unchanged()
        assert self._after().registrations[registration_id].status is status is not CANCELLED


def test_ledger_invariants_hold_after_any_sequence_of_changes(ctx):
    # Every example makes an event of its own in the test's database: no clean-up between examples. The explain
    # phase is left out: it traces every shrinking attempt line by line (sys.settrace before Python 3.12), which
    # through SQLAlchemy turned a failure's report from seconds into the five minutes Hypothesis allows.
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None, print_blob=True,
                          report_multiple_bugs=False, phases=[p for p in Phase if p is not Phase.explain]),
    )


# --- the reported bug ----------------------------------------------------------------------------------

@contextmanager
def states_at_each_commit(registration_id: int, session_id: int):
    """(registration status, seat status) as committed, read on a connection of its own after every commit."""
    seen = []

    def after_commit(_session):
        with db.engine.connect() as connection:
            seen.append(tuple(connection.execute(
                select(Registration.status, SessionSeat.status)
                .join(SessionSeat, SessionSeat.registration_id == Registration.id)
                .where(Registration.id == registration_id, SessionSeat.session_id == session_id)).one()))

    sa_event.listen(OrmSession, "after_commit", after_commit)
    try:
        yield seen
    finally:
        sa_event.remove(OrmSession, "after_commit", after_commit)


def test_ledger_waitlisted_registrant_holds_no_round_table_seat(ctx):
    event_id, [table] = create_event_with_round_tables(1, [120])
    first = services.register(event_id, details(1), [table])
    assert first.status is CONFIRMED
    assert read_ledger(event_id).sessions[table] == Place(120, confirmed_count=1, waitlisted_count=0)
    second = services.register(event_id, details(2), [table])
    assert second.status is WAITLISTED

    ledger = read_ledger(event_id)
    assert ledger.live_seats(second.registration_id) == {table: SeatStatus.wish}
    assert len(ledger.seats_with(table, SeatStatus.confirmed)) == 1  # recounted: the first registrant's seat only
    assert ledger.sessions[table] == Place(120, confirmed_count=1, waitlisted_count=0)  # the counters: unchanged
    assert ledger.event == Place(1, confirmed_count=1, waitlisted_count=1)
    check_ledger(ledger)

    with states_at_each_commit(second.registration_id, table) as committed:
        assert services.cancel(first.registration_id) == [second.registration_id]
    # Promoted and seated in one transaction: no commit ever showed the one without the other.
    assert committed and set(committed) <= {(WAITLISTED, SeatStatus.wish), (CONFIRMED, SeatStatus.confirmed)}
    ledger = read_ledger(event_id)
    assert ledger.registrations[second.registration_id].status is CONFIRMED
    assert ledger.live_seats(second.registration_id) == {table: SeatStatus.confirmed}
    assert ledger.live_seats(first.registration_id) == {}
    assert ledger.sessions[table] == Place(120, confirmed_count=1, waitlisted_count=0)
    assert ledger.event == Place(1, confirmed_count=1, waitlisted_count=0)
    check_ledger(ledger)

