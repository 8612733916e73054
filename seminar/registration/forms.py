"""The registration form and the self-service forms (field names are a public contract)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError

from seminar.events.models import Event, Session
from seminar.registration.services import RegistrationDetails
from seminar.registration.validation import InvalidDetails, clean_email, clean_text


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text_rule(form, field):
    try:
        field.data = clean_email(field.data) if field.name == "email" else clean_text(field.name, field.data)
    except InvalidDetails as invalid:
        raise ValidationError(invalid.errors[field.name]) from None


def _is_id(value) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9


# Without choices offered (the public registration POST), only the shape is checked here: the service checks
# the category and round tables against the event, under its lock, with the same messages.
def _category_rule(form, field):
    offered = {value for value, _label in field.choices if value}
    if (offered and field.data not in offered) or (field.data and not _is_id(field.data)):
        raise ValidationError(_l("Choose a category from the list."))


def _sessions_rule(form, field):
    offered = {value for value, _label in field.choices}
    if any(not _is_id(value) or (offered and value not in offered) for value in field.data or []):
        raise ValidationError(_l("Choose among the round tables offered."))


def _consent_rule(form, field):
    if not field.data:
        raise ValidationError(_l("Please accept the privacy notice to register."))


class DetailsForm(FlaskForm):
    first_name = StringField(_l("First name"), filters=[_strip], validators=[_text_rule])
    last_name = StringField(_l("Last name"), filters=[_strip], validators=[_text_rule])
    email = StringField(_l("E-mail address"), filters=[_strip], validators=[_text_rule])
    organisation = StringField(_l("Organisation"), filters=[_strip], validators=[_text_rule])
    job_title = StringField(_l("Job title"), filters=[_strip], validators=[_text_rule])
    category = SelectField(_l("Category"), choices=[], validate_choice=False, validators=[_category_rule])
    dietary = TextAreaField(_l("Dietary requirements"), filters=[_strip], validators=[_text_rule])
    accessibility = TextAreaField(_l("Accessibility needs"), filters=[_strip], validators=[_text_rule])
    consent_listing = BooleanField(_l("I agree to appear in the public list of participants (name and organisation)."))

    def offer(self, event: Event, locale: str) -> DetailsForm:
        self.category.choices = [("", _l("Choose your category"))] + [
            (str(c.id), c.label_for(locale)) for c in event.categories
        ]
        return self

    def details(self, consent_privacy: bool = True) -> RegistrationDetails:
        return RegistrationDetails(
            first_name=self.first_name.data, last_name=self.last_name.data, email=self.email.data,
            organisation=self.organisation.data or "", job_title=self.job_title.data or "",
            category_id=int(self.category.data) if self.category.data else None,
            dietary=self.dietary.data or "", accessibility=self.accessibility.data or "",
            consent_privacy=consent_privacy, consent_listing=bool(self.consent_listing.data),
        )


class SessionsForm(FlaskForm):
    sessions = SelectMultipleField(_l("Round tables"), choices=[], validate_choice=False, validators=[_sessions_rule])

    def offer_sessions(self, sessions: list[Session]):
        self.sessions.choices = [(str(s.id), s.title) for s in sessions]
        return self

    def session_ids(self) -> list[int]:
        return [int(value) for value in self.sessions.data or []]


class RegistrationForm(DetailsForm, SessionsForm):
    consent_privacy = BooleanField(
        _l("I have read the privacy notice and agree to my data being used to organise the event."),
        validators=[_consent_rule],
    )


class InvitationRequestForm(FlaskForm):
    """Asking for an invitation to an invitation-only event (the organisers receive it by e-mail)."""

    first_name = StringField(_l("First name"), filters=[_strip], validators=[_text_rule])
    last_name = StringField(_l("Last name"), filters=[_strip], validators=[_text_rule])
    email = StringField(_l("E-mail address"), filters=[_strip], validators=[_text_rule])
    organisation = StringField(_l("Organisation"), filters=[_strip], validators=[_text_rule])
    message = TextAreaField(_l("Message to the organisers"), filters=[_strip])
