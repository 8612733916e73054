"""Back-office forms (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from seminar.events.models import SessionKind, SpeakerRole

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def session_kind_choices():
    return [(SessionKind.plenary.value, _l("Plenary")), (SessionKind.round_table.value, _l("Round table")),
            (SessionKind.break_.value, _l("Break")), (SessionKind.other.value, _l("Other"))]


def speaker_role_choices():
    return [(SpeakerRole.moderator.value, _l("Moderator")), (SpeakerRole.panellist.value, _l("Panellist")),
            (SpeakerRole.speaker.value, _l("Speaker")), (SpeakerRole.chair.value, _l("Chair"))]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EventForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title in English"), validators=[Optional(), Length(max=200)])
    slug = StringField(_l("Address (slug)"), description=_l("Lower-case letters, digits and hyphens; used in links."),
                       validators=[DataRequired(), Length(max=80), Regexp(r"^[a-z0-9-]+$", message=_l(
                           "Use lower-case letters, digits and hyphens only."))])
    subtitle = StringField(_l("Subtitle"), validators=[Optional(), Length(max=300)])
    subtitle_en = StringField(_l("Subtitle in English"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    description_en = TextAreaField(_l("Description in English"), validators=[Optional(), Length(max=20000)])
    organiser = StringField(_l("Organiser"), validators=[Optional(), Length(max=200)])
    organiser_en = StringField(_l("Organiser in English"), validators=[Optional(), Length(max=200)])
    contact_email = EmailField(_l("Contact e-mail"), validators=[Optional(), Email(), Length(max=254)],
                               description=_l("Replies to the e-mails and calendar invites go to this address."))
    timezone = StringField(_l("Time zone"), default="Europe/Paris", validators=[DataRequired(), Length(max=64)])
    starts_at = DateTimeLocalField(_l("Starts at"), format=DATETIME_FORMAT, validators=[DataRequired()],
                                   description=_l("In the event's time zone."))
    ends_at = DateTimeLocalField(_l("Ends at"), format=DATETIME_FORMAT, validators=[DataRequired()])
    capacity = IntegerField(_l("Capacity"), description=_l("Leave empty for no limit."),
                            validators=[Optional(), NumberRange(min=0, max=1_000_000)])
    invitation_only = BooleanField(_l("Registration by invitation only"), description=_l(
        "The public form then explains it and offers to ask for an invitation; people register through their "
        "invitation link, or you register them."))
    registration_opens_at = DateTimeLocalField(_l("Registration opens at"), format=DATETIME_FORMAT,
                                               validators=[Optional()])
    registration_closes_at = DateTimeLocalField(_l("Registration closes at"), format=DATETIME_FORMAT,
                                                validators=[Optional()], description=_l(
                                                    "Leave empty to close registration when the event starts. "
                                                    "It cannot close after the event ends."))


class LogoForm(FlaskForm):
    logo = FileField(_l("Organiser's logo"), description=_l(
        "PNG or JPEG, at most 2 MB; shown on the pages and the badges."))


class VenueForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    street_address = StringField(_l("Street address"), validators=[Optional(), Length(max=300)])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=20)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    country = StringField(_l("Country"), default="France", validators=[Optional(), Length(max=120)])
    access_notes = TextAreaField(_l("How to get there"), validators=[Optional(), Length(max=5000)])
    access_notes_en = TextAreaField(_l("How to get there, in English"), validators=[Optional(), Length(max=5000)])
    accessibility_notes = TextAreaField(_l("Accessibility"), validators=[Optional(), Length(max=5000)])
    accessibility_notes_en = TextAreaField(_l("Accessibility, in English"),
                                           validators=[Optional(), Length(max=5000)])
    map_url = StringField(_l("Map link"), validators=[Optional(), Length(max=500),
                                                      Regexp(r"^https?://", message=_l("Use an http(s) link."))])


class RoomForm(FlaskForm):
    name = StringField(_l("Room name"), validators=[DataRequired(), Length(max=120)])
    capacity = IntegerField(_l("Seats"), validators=[Optional(), NumberRange(min=0, max=100_000)])


class SessionSpeakerRow(Form):
    """One row of a session's speakers: a speaker of the event, or a new person; their role and order. `linked`:
    "1" on the rows of the session's current speakers (shown by name, with `remove`)."""

    linked = HiddenField()
    speaker_id = SelectField(_l("Speaker of the event"), coerce=str, choices=[])
    name = StringField(_l("Or a new person: name"), validators=[Optional(), Length(max=200)])
    title = StringField(_l("Function"), validators=[Optional(), Length(max=200)])
    affiliation = StringField(_l("Affiliation"), validators=[Optional(), Length(max=300)])
    role = SelectField(_l("Role"), choices=speaker_role_choices, default=SpeakerRole.speaker.value)
    position = IntegerField(_l("Order"), validators=[Optional(), NumberRange(min=0, max=1000)])
    remove = BooleanField(_l("Remove from the session"))


class SessionForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=session_kind_choices)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Title in English"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Theme and description"), validators=[Optional(), Length(max=20000)])
    description_en = TextAreaField(_l("Theme and description in English"),
                                   validators=[Optional(), Length(max=20000)])
    starts_at = DateTimeLocalField(_l("Starts at"), format=DATETIME_FORMAT, validators=[DataRequired()],
                                   description=_l("In the event's time zone."))
    ends_at = DateTimeLocalField(_l("Ends at"), format=DATETIME_FORMAT, validators=[DataRequired()])
    room_id = SelectField(_l("Room"), coerce=str, choices=[])
    capacity = IntegerField(_l("Capacity"), description=_l("Round tables: places offered. Empty: no limit."),
                            validators=[Optional(), NumberRange(min=0, max=100_000)])
    position = IntegerField(_l("Order"), default=0, description=_l("Orders sessions that start together."),
                            validators=[Optional(), NumberRange(min=0, max=10_000)])
    speakers = FieldList(FormField(SessionSpeakerRow), label=_l("Speakers"))


class SpeakerForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    title = StringField(_l("Title or function"), validators=[Optional(), Length(max=200)],
                        description=_l("Shown after the name: \u201cZoë L'Hôpital, oncologue (CHU de Lyon)\u201d."))
    title_en = StringField(_l("Function in English"), validators=[Optional(), Length(max=200)])
    affiliation = StringField(_l("Affiliation"), validators=[Optional(), Length(max=300)])
    bio = TextAreaField(_l("Biography"), validators=[Optional(), Length(max=10000)])
    bio_en = TextAreaField(_l("Biography in English"), validators=[Optional(), Length(max=10000)])
    is_organisation = BooleanField(_l("This is an organisation, not a person"))
    photo = FileField(_l("Photo"), description=_l(
        "JPEG, PNG, WebP or GIF, at most 2 MB and 24 megapixels; stored at most 1024 pixels wide or high, "
        "without its metadata (location, camera)."))
    remove_photo = BooleanField(_l("Remove the current photo"))


class SpeakerRoleForm(FlaskForm):
    speaker_id = SelectField(_l("Speaker"), coerce=int, choices=[])
    role = SelectField(_l("Role"), choices=speaker_role_choices)
    position = IntegerField(_l("Order"), default=0, validators=[Optional(), NumberRange(min=0, max=1000)])


class ManualRegistrationForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=200)])
    category = SelectField(_l("Category"), choices=[])
    sessions = MultiCheckboxField(_l("Round tables"), coerce=int, choices=[])
    locale = SelectField(_l("Language of the e-mails"), choices=[("fr", "Français"), ("en", "English")])
    overbook = BooleanField(_l("Confirm even when full (overbooking, recorded)"))
    notify = BooleanField(_l("Send the confirmation e-mail"), default=True)


class GuestForm(FlaskForm):
    """One guest added to the guest list by hand."""

    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    category_id = SelectField(_l("Category"), choices=[], validate_choice=False)
    language = SelectField(_l("Language of the e-mails"), choices=[("fr", "Français"), ("en", "English")])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), description=_l(
        "Columns first_name, last_name, email, organisation, job_title, category and optionally sessions "
        "(round tables by title or code, separated by ;) and role (on the badge: speaker, moderator, organiser, "
        "press, staff). UTF-8, comma or semicolon separated."))
    send_email = BooleanField(_l("Send confirmation e-mails"), default=True)


class MailingForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=20000)],
                         description=_l("Plain text. {first_name} and {last_name} are replaced for each person."))
