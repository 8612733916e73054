"""The cancéropôles' 20th-anniversary seminar, from the Institut national du cancer's press release
of 28 November 2023. The release gives no timetable: the times below are indicative
(`Event.times_confirmed` is False, which the programme page says). Seeded by default on the next
28 November still ahead, so that a fresh installation shows a seminar open for registration."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from seminar.database import write_transaction
from seminar.events.models import (
    Category,
    Event,
    Organisation,
    OrganisationKind,
    PressContact,
    Room,
    Session,
    SessionKind,
    SessionSpeaker,
    Speaker,
    SpeakerRole,
    Venue,
)
from seminar.extensions import db, utcnow

SLUG = "20-ans-canceropoles"
SEMINAR_DATE = date(2023, 11, 28)  # the historical seminar (`flask seed --date 2023-11-28`)
PARIS = ZoneInfo("Europe/Paris")
OPENING = (9, 0)  # the seminar starts (and registration closes) at 09:00, Paris time

CANCEROPOLES = [
    "Cancéropôle Est",
    "Cancéropôle Grand Ouest",
    "Cancéropôle Grand Sud-Ouest",
    "Cancéropôle Île-de-France",
    "Cancéropôle Lyon Auvergne-Rhône-Alpes (CLARA)",
    "Cancéropôle Nord-Ouest",
    "Cancéropôle Provence-Alpes-Côte d'Azur",
]

INVITED = [
    (OrganisationKind.elected_officials, "Élus nationaux", "National elected officials"),
    (OrganisationKind.founding_member, "Inserm", ""),
    (OrganisationKind.founding_member, "CNRS", ""),
    (OrganisationKind.founding_member, "CHU", "University hospitals (CHU)"),
    (OrganisationKind.founding_member, "CLCC", "Cancer centres (CLCC)"),
    (OrganisationKind.local_authority, "Régions", "Regions"),
    (OrganisationKind.local_authority, "Métropoles", "Metropolitan areas"),
    (OrganisationKind.patient_association, "Fondation ARC", ""),
    (OrganisationKind.patient_association, "Ligue contre le cancer", "Ligue contre le cancer (French cancer league)"),
    (OrganisationKind.technology_transfer, "Sociétés d'Accélération du Transfert de Technologies (SATT)",
     "Technology transfer acceleration companies (SATT)"),
    (OrganisationKind.technology_transfer, "Inserm Transfert", ""),
    (OrganisationKind.technology_transfer, "CNRS Innovation (CNRS valorisation)", ""),
    (OrganisationKind.technology_transfer, "MATWIN", ""),
]

CATEGORIES = [
    ("canceropole", "Cancéropôle", "Cancéropôle", "#1d4e89"),
    ("research", "Organisme de recherche (Inserm, CNRS, universités…)",
     "Research organisation (Inserm, CNRS, universities…)", "#2a7f62"),
    ("hospital", "Établissement de santé ou centre de lutte contre le cancer (CHU, CLCC)",
     "Hospital or cancer centre (CHU, CLCC)", "#0f7c8c"),
    ("authority", "Collectivité territoriale", "Local or regional authority", "#6a4c93"),
    ("elected", "Élu·e", "Elected official", "#8c2f39"),
    ("patients", "Association de patients ou fondation", "Patient association or foundation", "#c05621"),
    ("transfer", "Valorisation (SATT, Inserm Transfert, CNRS, MATWIN…)",
     "Technology transfer (SATT, Inserm Transfert, CNRS, MATWIN…)", "#7a6a00"),
    ("industry", "Industrie", "Industry", "#4a5568"),
    ("press", "Presse", "Press", "#b83280"),
    ("other", "Autre", "Other", "#555555"),
]

# (title, theme) in French, then in English.
ROUND_TABLES = [
    (
        "Table ronde 1 : optimiser l'impact des actions structurantes",
        "Les stratégies à développer pour optimiser l'impact des actions structurantes des cancéropôles.",
        "Round table 1: making the most of structuring actions",
        "Strategies to increase the impact of the cancéropôles' structuring actions.",
    ),
    (
        "Table ronde 2 : les patients et la recherche",
        "Les implications des patients dans les activités des cancéropôles, et plus généralement "
        "dans la recherche en cancérologie.",
        "Round table 2: patients and research",
        "How patients take part in the cancéropôles' activities, and in cancer research generally.",
    ),
    (
        "Table ronde 3 : créer de la valeur dans les territoires",
        "La contribution des cancéropôles à la création de valeur dans leurs territoires au niveau "
        "économique, sociétal et humain.",
        "Round table 3: creating value in the regions",
        "The cancéropôles' contribution to economic, social and human value in their regions.",
    ),
]

DESCRIPTION = (
    "Créés en 2003 dans le cadre du 1er Plan cancer, les 7 cancéropôles contribuent à structurer la "
    "recherche en cancérologie au niveau régional ou interrégional. Soutenus par l'Institut national du "
    "cancer depuis 2005 et labellisés depuis 2011, ils constituent, avec les SIRIC et les CLIP², un "
    "dispositif unique d'aide à la recherche.\n\n"
    "À l'occasion de ces 20 ans, l'Institut national du cancer réunit l'ensemble des acteurs pour dresser "
    "le bilan de leurs réalisations les plus marquantes et se projeter collectivement dans l'avenir. Les "
    "tables rondes ont pour objectif d'identifier de nouveaux leviers ou de nouvelles actions à mettre en "
    "œuvre dans une optique d'amélioration du service rendu aux chercheurs, au bénéfice des patients "
    "atteints de cancer."
)


DESCRIPTION_EN = (
    "Created in 2003 under the first national Cancer Plan, the seven cancéropôles structure cancer research "
    "at regional and interregional level. Supported by the Institut national du cancer since 2005 and "
    "accredited since 2011, they form, with the SIRIC and the CLIP², a unique system of support for research.\n\n"
    "For their 20th anniversary, the Institut national du cancer brings together everyone involved to review "
    "their most remarkable achievements and to look ahead together. The round tables aim to identify new "
    "levers and actions that improve the service offered to researchers, for the benefit of people with cancer."
)


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=PARIS)


def next_anniversary(now: datetime) -> date:
    """The next 28 November on which the seminar has not started yet at `now`: this year's while it is
    still ahead, else next year's."""
    this_year = SEMINAR_DATE.replace(year=now.astimezone(PARIS).year)
    return this_year if now < _at(this_year, *OPENING) else this_year.replace(year=this_year.year + 1)


def seed_anniversary_seminar(on: date | None = None, *, now: datetime | None = None) -> tuple[Event, bool]:
    """Load the anniversary seminar; idempotent.

    Returns the event and whether anything changed. A new event is seeded on `on`, by default on the
    next 28 November still ahead at `now` (default: now). With `on`, an existing seeded event is moved
    (with its whole programme and registration period) to that day, for rehearsals; without, it stays.
    """
    event = db.session.scalar(select(Event).where(Event.slug == SLUG))
    if event is None:
        with write_transaction():
            event = _create(on or next_anniversary(now or utcnow()))
            db.session.add(event)
        return event, True
    if on is not None:
        current_day = event.local(event.starts_at).date()
        shift = on - current_day
        if shift:
            with write_transaction():
                _shift(event, timedelta(days=shift.days))
            return event, True
    return event, False


def _shift(event: Event, delta: timedelta) -> None:
    # Move wall-clock times in the event's timezone, so 09:00 stays 09:00 across a DST change.
    def moved(moment: datetime) -> datetime:
        local = event.local(moment)
        return datetime.combine(local.date() + delta, local.time(), tzinfo=event.tz)

    event.starts_at, event.ends_at = moved(event.starts_at), moved(event.ends_at)
    event.registration_closes_at = moved(event.registration_closes_at)
    if event.registration_opens_at is not None:
        event.registration_opens_at = moved(event.registration_opens_at)
    for session in event.sessions:
        session.starts_at, session.ends_at = moved(session.starts_at), moved(session.ends_at)
        session.sequence += 1


def _create(day: date) -> Event:
    event = Event(
        slug=SLUG,
        title="20 ans des cancéropôles : bilan, enjeux, perspectives",
        title_en="20 years of the cancéropôles: review, challenges, outlook",
        subtitle="Les cancéropôles, acteurs majeurs de la structuration de la recherche dans les territoires",
        subtitle_en="The cancéropôles, key players in structuring research across France's regions",
        description=DESCRIPTION,
        description_en=DESCRIPTION_EN,
        organiser="Institut national du cancer",
        organiser_en="French National Cancer Institute (Institut national du cancer)",
        timezone="Europe/Paris",
        starts_at=_at(day, *OPENING),
        ends_at=_at(day, 17, 0),
        registration_opens_at=None,
        registration_closes_at=_at(day, *OPENING),
        capacity=300,
        contact_email="seminaire-canceropoles@example.org",
        featured=True,
        times_confirmed=False,
    )
    venue = Venue(
        name="Salons de l'Aveyron",
        street_address="17 rue de l'Aubrac",
        postal_code="75012",
        city="Paris",
        country="France",
        access_notes="Métro ligne 14 : Cour Saint-Émilion (5 minutes à pied).",
        access_notes_en="Metro line 14: Cour Saint-Émilion (a 5-minute walk).",
        accessibility_notes="Merci d'indiquer vos besoins d'accessibilité lors de l'inscription.",
        accessibility_notes_en="Please tell us your accessibility needs when you register.",
        map_url="https://www.openstreetmap.org/search?query=17%20rue%20de%20l%27Aubrac%2075012%20Paris",
    )
    plenary_room = Room(name="Salle plénière", capacity=300)
    venue.rooms = [plenary_room, Room(name="Espace déjeuner", capacity=300)]
    event.venue = venue

    ifrah = Speaker(name="Norbert Ifrah", title="président", title_en="President",
                    affiliation="Institut national du cancer")
    breton = Speaker(name="Thierry Breton", title="directeur général", title_en="Chief Executive",
                     affiliation="Institut national du cancer")
    inca = Speaker(name="Institut national du cancer", affiliation="", is_organisation=True)
    canceropoles = [Speaker(name=name, is_organisation=True) for name in CANCEROPOLES]
    event.speakers = [ifrah, breton, inca, *canceropoles]

    def slot(kind, title, start, end, description="", room=plenary_room, capacity=None, position=0, english=("", "")):
        return Session(kind=kind, title=title, description=description, starts_at=start, ends_at=end,
                       room=room, capacity=capacity, position=position, title_en=english[0],
                       description_en=english[1])

    opening = slot(SessionKind.plenary, "Ouverture du séminaire", _at(day, 9, 30), _at(day, 10, 0),
                   "Allocutions d'ouverture du président et du directeur général de l'Institut national du cancer.",
                   english=("Opening of the seminar", "Opening addresses by the President and the Chief Executive "
                            "of the Institut national du cancer."))
    opening.speaker_links = [
        SessionSpeaker(speaker=ifrah, role=SpeakerRole.speaker, position=0),
        SessionSpeaker(speaker=breton, role=SpeakerRole.speaker, position=1),
    ]
    round_table_times = [((10, 0), (11, 15)), ((11, 30), (12, 45)), ((14, 15), (15, 30))]
    round_tables = []
    for index, ((title, theme, *english), (start, end)) in enumerate(
            zip(ROUND_TABLES, round_table_times, strict=True)):
        table = slot(SessionKind.round_table, title, _at(day, *start), _at(day, *end), theme, capacity=120,
                     position=index, english=english)
        table.speaker_links = [SessionSpeaker(speaker=inca, role=SpeakerRole.moderator, position=0)] + [
            SessionSpeaker(speaker=c, role=SpeakerRole.panellist, position=i + 1) for i, c in enumerate(canceropoles)
        ]
        round_tables.append(table)

    event.sessions = [
        slot(SessionKind.break_, "Accueil des participants", _at(day, 9, 0), _at(day, 9, 30),
             "Accueil et remise des badges.", english=("Welcome", "Arrival and badges.")),
        opening,
        round_tables[0],
        slot(SessionKind.break_, "Pause", _at(day, 11, 15), _at(day, 11, 30), english=("Break", "")),
        round_tables[1],
        slot(SessionKind.break_, "Déjeuner", _at(day, 12, 45), _at(day, 14, 15),
             room=venue.rooms[1], english=("Lunch", "")),
        round_tables[2],
        slot(SessionKind.plenary, "Synthèse et perspectives, clôture", _at(day, 15, 30), _at(day, 16, 15),
             "Synthèse des tables rondes et perspectives pour la labellisation 2023-2027.",
             english=("Summary, outlook and closing", "Summary of the round tables and outlook for the 2023-2027 "
                      "accreditation.")),
        slot(SessionKind.other, "Cocktail", _at(day, 16, 15), _at(day, 17, 0), room=venue.rooms[1],
             english=("Reception", "")),
    ]
    event.categories = [
        Category(code=code, label=fr, label_en=en, colour=colour, position=i)
        for i, (code, fr, en, colour) in enumerate(CATEGORIES)
    ]
    event.organisations = [
        Organisation(kind=OrganisationKind.canceropole, name=name, position=i) for i, name in enumerate(CANCEROPOLES)
    ] + [Organisation(kind=kind, name=name, name_en=name_en, position=100 + i)
         for i, (kind, name, name_en) in enumerate(INVITED)]
    event.press_contacts = [
        PressContact(name="Lydia Dauzet", role="Responsable relations media", role_en="Head of media relations",
                     phone="01 41 10 14 44 / 06 20 72 11 25", email="presseinca@institutcancer.fr", position=0),
        PressContact(name="Juliette Urvoy", role="Chargée de relations presse", role_en="Press officer",
                     phone="01 41 10 14 41",
                     email="presseinca@institutcancer.fr", position=1),
    ]
    return event
