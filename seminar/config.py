"""Default configuration, suitable for development.

Overridden by `instance/config.py` when present, then by `SEMINAR_*` environment variables.
"""

from datetime import timedelta

DEBUG = False
TESTING = False
SECRET_KEY = None
SQLALCHEMY_DATABASE_URI = None  # set by create_app to SQLite in the instance folder
SQLALCHEMY_ENGINE_OPTIONS: dict = {}
MAX_CONTENT_LENGTH = 6 * 1024 * 1024
PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
WTF_CSRF_TIME_LIMIT = 8 * 3600

BABEL_DEFAULT_LOCALE = "fr"
BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
LANGUAGES = ("fr", "en")

# An address registered again (or the same form sent several times at once) gets no second e-mail while the
# registration's last one is younger than this many seconds: one registration, one set of e-mails.
REGISTRATION_LINK_RESEND_AFTER = 300

# `flask invitations send --remind` (and the back-office's button) reminds an invitee who has neither registered
# nor declined once their last invitation or reminder is older than this many seconds.
INVITATION_REMIND_AFTER = 86400

# Absolute links in e-mails and calendar files.
BASE_URL = "http://127.0.0.1:5000"

# `smtp://host:port`, `smtp+starttls://user:pass@host:587`, `smtps://…`; unset: .eml files in instance/mail/.
MAIL_URL = None
MAIL_FROM = "Séminaire <no-reply@localhost>"
# The web process tries to deliver new mail right after the commit, in a background thread.
MAIL_DELIVER_AFTER_COMMIT = True
# …after this many seconds, so that the mail of a rush of commits goes out in batches (see seminar/mail/outbox.py).
MAIL_AFTER_COMMIT_DELAY = 0.5
# Delivery claims this many messages at a time; a worker told to stop (SIGTERM) sends the one in hand and
# releases the rest of its batch.
MAIL_CLAIM_BATCH = 10
# Seconds a claim lasts unless renewed: a living worker renews it every third of that, so the messages of one
# that died (SIGKILL) are sent by another at most this long after (see seminar/mail/outbox.py).
MAIL_CLAIM_LEASE = 30
# A message is tried this many times (back-off 1 min, 2, 4 … up to 1 h), then marked failed.
MAIL_MAX_ATTEMPTS = 10

RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_ENABLED = True
RATELIMIT_HEADERS_ENABLED = True
RATELIMIT_SWALLOW_ERRORS = True  # a storage outage (Redis down) lets requests through, logged
# The public registration form, limited per IP address and per e-mail address (README "Configuration").
# Only the POSTs that registered someone (answered with a redirect) count: a form sent back with errors does not.
# Per IP: a hospital or an institute behind one NAT address must fit (100 colleagues within the hour, 40 of them
# in the same minute after a circular e-mail), hence generous hourly and daily limits and no per-minute one.
RATELIMIT_REGISTRATION_PER_IP = "300 per hour; 1000 per day"
# Per e-mail address typed (normalised and case-folded, as for "one registration per address"): a person
# registers once or twice; a script posting one address over and over, from however many IPs, is stopped.
RATELIMIT_REGISTRATION_PER_EMAIL = "5 per hour; 10 per day"
# The self-service details form (each POST may e-mail a confirmation link to the address typed) and the
# confirmation of a new address: every POST counts, per IP address and, for the details, per registration.
RATELIMIT_SELF_SERVICE_PER_IP = "60 per hour"
RATELIMIT_SELF_SERVICE_PER_REGISTRATION = "20 per hour"
# A new address typed on the self-service page takes effect when the link e-mailed to it is followed, within
# this many seconds (the link is signed, not stored; it stops working once the address has changed).
REGISTRATION_EMAIL_CHANGE_MAX_AGE = 48 * 3600
LOGIN_RATE_LIMIT = "10 per minute"
# `flask bootstrap` creates this admin account (with a generated password) when no account exists.
FIRST_ADMIN_EMAIL = "admin@localhost"

# Behind a reverse proxy: how many proxies set X-Forwarded-* (0: no ProxyFix).
PROXY_FIX_X_FOR = 0
PROXY_FIX_X_PROTO = 0
PROXY_FIX_X_HOST = 0

# Session cookies `Secure`: True/False, or None to follow BASE_URL (https:// → Secure). See seminar/security.py.
SECURE_COOKIES = None
# Host names this site answers for (list, or comma-separated in SEMINAR_TRUSTED_HOSTS); None: any.
TRUSTED_HOSTS = None

# Background jobs (`flask worker`): a running job's heartbeat every JOB_HEARTBEAT_INTERVAL seconds; a job
# whose heartbeat is older than JOB_STALE_AFTER seconds (its worker died) is run again, JOB_MAX_ATTEMPTS times.
JOB_HEARTBEAT_INTERVAL = 10
JOB_STALE_AFTER = 60
JOB_MAX_ATTEMPTS = 3
# Housekeeping, by the worker every HOUSEKEEPING_INTERVAL seconds (or `flask housekeeping`, e.g. from cron):
# the results of jobs (badge PDFs, kept in the database) are dropped JOB_RESULT_RETENTION_DAYS after they
# were made; rendered badge parts not used by an export for BADGE_CACHE_RETENTION_DAYS are deleted; e-mails
# sent more than MAIL_SENT_RETENTION_DAYS ago are deleted from the outbox.
HOUSEKEEPING_INTERVAL = 3600
JOB_RESULT_RETENTION_DAYS = 7
BADGE_CACHE_RETENTION_DAYS = 30
MAIL_SENT_RETENTION_DAYS = 30
# Processes that render badges in bulk (0: one per core).
BADGE_RENDER_PROCESSES = 0
# Registrant imports (back-office): a file of up to IMPORT_SYNC_MAX_ROWS rows is imported while the organiser
# waits, a larger one by a background job (`flask worker`) with a progress bar. The uploaded file is kept in the
# database between the preview and the import; one left there (never confirmed) is deleted after
# IMPORT_UPLOAD_RETENTION_HOURS by housekeeping.
IMPORT_SYNC_MAX_ROWS = 500
IMPORT_UPLOAD_RETENTION_HOURS = 24
