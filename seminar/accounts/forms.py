"""Forms of the accounts area (Flask-WTF, so every one carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from seminar.accounts.models import Role
from seminar.accounts.passwords import RULE


def role_choices():
    labels = {Role.admin: _l("Administrator"), Role.organiser: _l("Organiser"), Role.checkin: _l("Check-in desk")}
    return [(role.value, labels[role]) for role in Role]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), description=RULE, validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(_l("New password, again"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))])


class UserCreateForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=role_choices, default=Role.organiser.value)
    password = PasswordField(_l("Initial password"), description=RULE, validators=[DataRequired(), Length(max=1024)])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)


class ActionForm(FlaskForm):
    """A bare form for buttons that change something (its only field is the CSRF token)."""
