"""registration.badge_role: speaker, moderator, organiser, press or staff, printed on the badge

Revision ID: 0009_badge_role
Revises: 0008_outbox_inline_images
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_badge_role'
down_revision = '0008_outbox_inline_images'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('badge_role', sa.Enum('attendee', 'speaker', 'moderator', 'organiser', 'press',
                                                            'staff', name='badgerole', native_enum=False, length=32),
                                      nullable=False, server_default='attendee'))


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_column('badge_role')
