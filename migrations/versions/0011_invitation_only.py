"""event.invitation_only: registration by invitation only

Revision ID: 0011_invitation_only
Revises: 0010_invitations
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_invitation_only'
down_revision = '0010_invitations'
branch_labels = None
depends_on = None


def upgrade():
    # A constant default ('0', false on both databases): with an expression, SQLite's batch mode would copy the
    # table, and dropping the old one would delete every session and registration (ON DELETE CASCADE).
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invitation_only', sa.Boolean(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('invitation_only')
