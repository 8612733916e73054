"""outbox_message: the organiser's name shown as the sender, the event's contact address as Reply-To

Revision ID: 0007_outbox_sender
Revises: 0006_bilingual_content
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_outbox_sender'
down_revision = '0006_bilingual_content'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_name', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('reply_to', sa.String(length=254), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('reply_to')
        batch_op.drop_column('sender_name')
