"""What the events area announces, for other areas to react to without being imported from here (blinker
signals, Flask's own mechanism). Subscribers are connected where the app is wired (`seminar.wiring`).

Each signal is sent inside the transaction that made the change, after it is flushed and with the event's row
locked: a subscriber's writes commit (or roll back) with the change."""

from blinker import Namespace

_signals = Namespace()

# An organiser raised the capacity of an event (`session_id` None) or of one of its sessions; sent with
# `event_id` and `session_id`. The registration ledger moves the waiting lists up into the new places.
capacity_raised = _signals.signal("capacity-raised")

# An event was written whole, with its registrations, from a document (`import-event`); sent with `event_id`.
# The registration ledger recounts its places from the rows rather than trust the document's counters.
event_loaded = _signals.signal("event-loaded")

# What registrants were sent changed (the calendar area queues updated invites, in the same transaction).
# `session_changed` / `session_deleted`: the time, room or title of a session changed, or it is being deleted; sent
# with `session`, its SEQUENCE already raised (`seminar.events.programme._announce_session`). `event_changed` /
# `event_cancelled`: what the event's own invite shows changed, or the event is being deleted before it ended;
# sent with `event`.
session_changed = _signals.signal("session-changed")
session_deleted = _signals.signal("session-deleted")
event_changed = _signals.signal("event-changed")
event_cancelled = _signals.signal("event-cancelled")
