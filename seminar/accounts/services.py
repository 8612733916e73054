"""Staff accounts: creating, authenticating, changing passwords and roles. Each function that writes does so in a
write transaction of its own, committed on return; passwords are hashed and checked before it begins."""

from __future__ import annotations

import secrets

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select

from seminar.accounts.models import Role, User
from seminar.accounts.passwords import generate_password, hash_password, password_problems, verify_password
from seminar.audit.services import record
from seminar.database import write_transaction
from seminar.extensions import db, utcnow


class AccountError(ValueError):
    """A refused account change; `problems` are messages for the person who asked."""

    def __init__(self, problems: list[str], field: str = "password"):
        super().__init__("; ".join(problems))
        self.problems = problems
        self.field = field  # the form field the problems are about


# The first admin's default address (FIRST_ADMIN_EMAIL): the one special-use domain staff accounts may use.
LOCAL_DOMAIN = "localhost"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    """Whether `email` is a well-formed address (email-validator's syntax check; no DNS look-up)."""
    if len(email) > 254:
        return False
    local_part, _at, domain = email.rpartition("@")
    if domain == LOCAL_DOMAIN:
        # email-validator refuses special-use domains outright: check the local part under a test domain.
        email = f"{local_part}@{LOCAL_DOMAIN}.test"
    try:
        validate_email(email, check_deliverability=False, test_environment=domain == LOCAL_DOMAIN)
    except EmailNotValidError:
        return False
    return True


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def create_user(email: str, password: str, role: Role, *, by: User | None = None) -> User:
    """A new active account; refuses a weak password or an address already taken."""
    email = normalise_email(email)
    if not is_valid_email(email):
        raise AccountError([_("Enter a valid e-mail address.")], field="email")
    problems = password_problems(password, email)
    if problems:
        raise AccountError(problems)
    if find_user(email) is not None:
        raise AccountError([_("An account with this e-mail address already exists.")], field="email")
    password_hash = hash_password(password)
    with write_transaction():
        user = User(email=email, password_hash=password_hash, role=role, active=True, session_nonce=_new_nonce())
        db.session.add(user)
        db.session.flush()
        record("account.create", target_type="user", target_id=user.id,
               details={"email": email, "role": role.value}, user=by)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active account with these credentials, else None (the same cost either way)."""
    user = find_user(email)
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.active:
        return None
    with write_transaction():
        user.last_login_at = utcnow()
        if not user.session_nonce:
            user.session_nonce = _new_nonce()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Sets a new password and a new session nonce, which ends the account's other sessions."""
    if not verify_password(user.password_hash, current):
        raise AccountError([_("The current password is not correct.")])
    problems = password_problems(new, user.email)
    if problems:
        raise AccountError(problems)
    password_hash = hash_password(new)
    with write_transaction():
        user.password_hash = password_hash
        user.session_nonce = _new_nonce()
        record("account.password", target_type="user", target_id=user.id, user=user)


def set_role(user_id: int, role: Role, *, by: User) -> User:
    with write_transaction():
        user = _get(user_id)
        _refuse_self(user, by)
        old = user.role
        user.role = role
        user.session_nonce = _new_nonce()
        record("account.role", target_type="user", target_id=user.id,
               details={"email": user.email, "from": old.value, "to": role.value}, user=by)
    return user


def set_active(user_id: int, active: bool, *, by: User) -> User:
    with write_transaction():
        user = _get(user_id)
        _refuse_self(user, by)
        user.active = active
        # A deactivated account's open sessions end at once.
        user.session_nonce = _new_nonce()
        record("account.activate" if active else "account.deactivate", target_type="user", target_id=user.id,
               details={"email": user.email}, user=by)
    return user


def sign_out(user: User) -> None:
    """Ends every session of `user`, the one signing out included: a cookie copied before is refused after."""
    with write_transaction():
        user.session_nonce = _new_nonce()


def sign_out_everywhere(user_id: int, *, by: User) -> User:
    """An admin ends every open session of an account (a lost laptop, a departing volunteer)."""
    with write_transaction():
        user = _get(user_id)
        user.session_nonce = _new_nonce()
        record("account.sign_out", target_type="user", target_id=user.id, details={"email": user.email}, user=by)
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def ensure_first_admin(email: str) -> tuple[User, str] | None:
    """When no account exists: an admin with a generated password, returned once in clear."""
    if count_users():
        return None
    password = generate_password()
    while password_problems(password, email):
        password = generate_password()
    return create_user(email, password, Role.admin), password


def _new_nonce() -> str:
    """The session nonce the signed-in account's cookie must carry (see auth.load_user)."""
    return secrets.token_hex(16)


def _get(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise AccountError([_("This account does not exist.")])
    return user


def _refuse_self(user: User, by: User) -> None:
    if user.id == by.id:
        raise AccountError([_("You cannot change your own role or deactivate your own account.")])
