"""event: registration always has a closing time (default the event's start), never after the event's end

Revision ID: 0003_registration_window
Revises: 0002_outbox_compose
"""
import sqlalchemy as sa
from alembic import op

revision = '0003_registration_window'
down_revision = '0002_outbox_compose'
branch_labels = None
depends_on = None


def upgrade():
    # An event without a closing time took registrations for ever: it now stops as the event starts.
    op.execute("UPDATE event SET registration_closes_at = starts_at WHERE registration_closes_at IS NULL")
    # Registration never stays open after the event ends.
    op.execute("UPDATE event SET registration_closes_at = ends_at WHERE registration_closes_at > ends_at")
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.alter_column('registration_closes_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.alter_column('registration_closes_at', existing_type=sa.DateTime(timezone=True), nullable=True)
