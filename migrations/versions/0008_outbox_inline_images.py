"""outbox_message.inline_images: the images an e-mail's HTML part shows (logo, check-in QR code)

Revision ID: 0008_outbox_inline_images
Revises: 0007_outbox_sender
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_outbox_inline_images'
down_revision = '0007_outbox_sender'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inline_images', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('inline_images')
