"""Staff accounts: creating, authenticating, changing passwords and roles. Each function that writes does so in a
write transaction of its own, committed on return; passwords are hashed and checked before it begins."""

from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import func, select

from seminar.accounts.models import Role, User
from seminar.accounts.passwords import generate_password, hash_password, password_problems, verify_password
from seminar.audit.services import record
from seminar.database import write_transaction
from seminar.extensions import db, utcnow


class AccountError(ValueError):
    """A refused account change; `problems` are messages for the person who asked."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def create_user(email: str, password: str, role: Role, *, by: User | None = None) -> User:
    """A new active account; refuses a weak password or an address already taken."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError([_("Enter a valid e-mail address.")])
    problems = password_problems(password, email)
    if problems:
        raise AccountError(problems)
    if find_user(email) is not None:
        raise AccountError([_("An account with this e-mail address already exists.")])
    password_hash = hash_password(password)
    with write_transaction():
        user = User(email=email, password_hash=password_hash, role=role, active=True,
                    session_nonce=secrets.token_hex(16))
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
            user.session_nonce = secrets.token_hex(16)
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
        user.session_nonce = secrets.token_hex(16)
        record("account.password", target_type="user", target_id=user.id, user=user)


def set_role(user_id: int, role: Role, *, by: User) -> User:
    with write_transaction():
        user = _get(user_id)
        _refuse_self(user, by)
        old = user.role
        user.role = role
        user.session_nonce = secrets.token_hex(16)
        record("account.role", target_type="user", target_id=user.id,
               details={"email": user.email, "from": old.value, "to": role.value}, user=by)
    return user


def set_active(user_id: int, active: bool, *, by: User) -> User:
    with write_transaction():
        user = _get(user_id)
        _refuse_self(user, by)
        user.active = active
        # A deactivated account's open sessions end at once.
        user.session_nonce = secrets.token_hex(16)
        record("account.activate" if active else "account.deactivate", target_type="user", target_id=user.id,
               details={"email": user.email}, user=by)
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


def _get(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise AccountError([_("This account does not exist.")])
    return user


def _refuse_self(user: User, by: User) -> None:
    if user.id == by.id:
        raise AccountError([_("You cannot change your own role or deactivate your own account.")])
