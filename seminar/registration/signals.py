"""What the registration area announces, for other areas to react to without being imported from here (blinker
signals, as `seminar.events.signals`). Subscribers are connected where the app is wired (`seminar.wiring`)."""

from blinker import Namespace

_signals = Namespace()

# A new registration is being written (once per registration, not when a cancelled one is taken up again); sent
# with `event_id`, `registration_id` and `email_key` before anything reaches the database. The registration's
# rows go with its commit in one round trip (`services._register`): a subscriber touches no database itself and
# returns the [(statement, parameters)] to send after those rows, in the same transaction.
registration_created = _signals.signal("registration-created")
