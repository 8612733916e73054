"""English twins of the public texts (event, venue, sessions, speakers, organisations, press contacts);
the organiser's logo

Revision ID: 0006_bilingual_content
Revises: 0005_import_uploads
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_bilingual_content'
down_revision = '0005_import_uploads'
branch_labels = None
depends_on = None

# table -> [(column, length or None for TEXT)]
ENGLISH = {
    'event': [('title_en', 200), ('subtitle_en', 300), ('description_en', None), ('organiser_en', 200)],
    'venue': [('access_notes_en', None), ('accessibility_notes_en', None)],
    'session': [('title_en', 300), ('description_en', None)],
    'speaker': [('title_en', 200), ('bio_en', None)],
    'organisation': [('name_en', 200)],
    'press_contact': [('role_en', 200)],
}


def upgrade():
    for table, columns in ENGLISH.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, length in columns:
                kind = sa.String(length=length) if length else sa.Text()
                batch_op.add_column(sa.Column(name, kind, nullable=False, server_default=''))
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organiser_logo', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('organiser_logo_mimetype', sa.String(length=50), nullable=True))


def downgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('organiser_logo_mimetype')
        batch_op.drop_column('organiser_logo')
    for table, columns in ENGLISH.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _length in reversed(columns):
                batch_op.drop_column(name)
