"""seat ledger: counters of places, round-table choices of people waiting for the event become wishes

Until now a registrant waitlisted for the event could hold a confirmed round-table seat. Such seats become
wishes (they count against nothing until the registration is confirmed); the places they held go to the next
people waiting for those round tables, each told by an e-mail recorded in the outbox (written and sent by the
outbox worker, as for any promotion). Then the counters are set from the rows.

Revision ID: 0004_seat_ledger
Revises: 0003_registration_window
"""
import json
from datetime import datetime, timezone
from email.utils import make_msgid

import sqlalchemy as sa
from alembic import op

revision = '0004_seat_ledger'
down_revision = '0003_registration_window'
branch_labels = None
depends_on = None

registration = sa.table('registration', sa.column('id', sa.Integer), sa.column('event_id', sa.Integer),
                        sa.column('status', sa.String), sa.column('email', sa.String),
                        sa.column('promoted_at', sa.DateTime(timezone=True)))
seat = sa.table('session_seat', sa.column('id', sa.Integer), sa.column('registration_id', sa.Integer),
                sa.column('session_id', sa.Integer), sa.column('status', sa.String),
                sa.column('created_at', sa.DateTime(timezone=True)))
session = sa.table('session', sa.column('id', sa.Integer), sa.column('capacity', sa.Integer),
                   sa.column('confirmed_count', sa.Integer), sa.column('waitlisted_count', sa.Integer))
event = sa.table('event', sa.column('id', sa.Integer), sa.column('confirmed_count', sa.Integer),
                 sa.column('waitlisted_count', sa.Integer))
outbox = sa.table('outbox_message', *(sa.column(name) for name in (
    'created_at', 'to_addr', 'subject', 'text_body', 'html_body', 'ics', 'ics_method', 'coalesce_key', 'status',
    'attempts', 'next_attempt_at', 'claimed_at', 'sent_at', 'last_error', 'message_id', 'event_id',
    'registration_id', 'compose_kind', 'compose_args')))

LIVE = ('confirmed', 'waitlisted')


def upgrade():
    for table in ('event', 'session'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('confirmed_count', sa.Integer(), server_default='0', nullable=False))
            batch_op.add_column(sa.Column('waitlisted_count', sa.Integer(), server_default='0', nullable=False))
    connection = op.get_bind()
    of_registration = sa.select(registration.c.id)
    connection.execute(seat.update().where(
        seat.c.status.in_(LIVE),
        seat.c.registration_id.in_(of_registration.where(registration.c.status == 'waitlisted'))
    ).values(status='wish'))
    connection.execute(seat.update().where(
        seat.c.status != 'cancelled',
        seat.c.registration_id.in_(of_registration.where(registration.c.status == 'cancelled'))
    ).values(status='cancelled'))
    _promote_into_freed_seats(connection)
    _recount(connection)


def _promote_into_freed_seats(connection) -> None:
    """The oldest waiting seats (of confirmed registrations) take the round tables' free places; one e-mail
    per person."""
    now = datetime.now(timezone.utc)
    promoted: dict[int, dict] = {}
    for session_id, capacity in connection.execute(
            sa.select(session.c.id, session.c.capacity).where(session.c.capacity.is_not(None)).order_by(session.c.id)):
        confirmed = connection.scalar(sa.select(sa.func.count()).select_from(seat).where(
            seat.c.session_id == session_id, seat.c.status == 'confirmed'))
        free = capacity - confirmed
        if free <= 0:
            continue
        waiting = connection.execute(
            sa.select(seat.c.id, registration.c.id, registration.c.event_id, registration.c.email)
            .join(registration, registration.c.id == seat.c.registration_id)
            .where(seat.c.session_id == session_id, seat.c.status == 'waitlisted',
                   registration.c.status == 'confirmed')
            .order_by(seat.c.created_at, seat.c.id).limit(free)).all()
        for seat_id, registration_id, event_id, email in waiting:
            connection.execute(seat.update().where(seat.c.id == seat_id).values(status='confirmed'))
            connection.execute(registration.update().where(registration.c.id == registration_id)
                               .values(promoted_at=now))
            person = promoted.setdefault(registration_id, {'event_id': event_id, 'email': email, 'sessions': []})
            person['sessions'].append(session_id)
    for registration_id, person in promoted.items():
        about = {'kind': 'promoted', 'confirmed': person['sessions'], 'released': [], 'seats_only': True}
        connection.execute(outbox.insert().values(
            created_at=now, to_addr=person['email'], subject='', text_body='', html_body='', ics=None,
            ics_method=None, coalesce_key=None, status='pending', attempts=0, next_attempt_at=now, claimed_at=None,
            sent_at=None, last_error='', message_id=make_msgid(), event_id=person['event_id'],
            registration_id=registration_id, compose_kind='registrant', compose_args=json.dumps(about)))


def _recount(connection) -> None:
    def counted(table, status, key, owner):
        return sa.select(sa.func.count()).select_from(table).where(
            table.c.status == status, key == owner).scalar_subquery()

    connection.execute(event.update().values(
        confirmed_count=counted(registration, 'confirmed', registration.c.event_id, event.c.id),
        waitlisted_count=counted(registration, 'waitlisted', registration.c.event_id, event.c.id)))
    connection.execute(session.update().values(
        confirmed_count=counted(seat, 'confirmed', seat.c.session_id, session.c.id),
        waitlisted_count=counted(seat, 'waitlisted', seat.c.session_id, session.c.id)))


def downgrade():
    op.execute("UPDATE session_seat SET status = 'waitlisted' WHERE status = 'wish'")
    for table in ('session', 'event'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('waitlisted_count')
            batch_op.drop_column('confirmed_count')
