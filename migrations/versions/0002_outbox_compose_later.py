"""outbox: messages recorded by a change and composed later by the worker

Revision ID: 0002_outbox_compose
Revises: 0001_initial
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_outbox_compose'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('compose_kind', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('compose_args', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_compose_kind'), ['compose_kind'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_compose_kind'))
        batch_op.drop_column('compose_args')
        batch_op.drop_column('compose_kind')
