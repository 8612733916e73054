"""Back-office forms for an event's categories, invited organisations and press contacts (Flask-WTF: each carries a
CSRF token). The rules (code, colour, e-mail, web address) are the services' (seminar.events.lists): the forms only
bound what a field takes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import ColorField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from seminar.events.lists import DEFAULT_COLOUR, ORGANISATION_KIND_LABELS


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)], description=_l(
        "Lower-case letters, digits, hyphens and underscores; used in exports and spreadsheets."))
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=200)],
                        description=_l("Shown on the registration form and on the badges."))
    label_en = StringField(_l("Label in English"), validators=[Optional(), Length(max=200)])
    colour = ColorField(_l("Badge colour"), default=DEFAULT_COLOUR, validators=[DataRequired(), Length(max=7)],
                        description=_l("The band printed across the badges of this category."))


class OrganisationForm(FlaskForm):
    kind = SelectField(_l("Group"), choices=[(kind.value, label) for kind, label in ORGANISATION_KIND_LABELS.items()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)])
    url = StringField(_l("Web address"), validators=[Optional(), Length(max=300)],
                      description=_l("Optional; beginning with https://."))


class PressContactForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = StringField(_l("Role"), validators=[Optional(), Length(max=200)])
    role_en = StringField(_l("Role in English"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
