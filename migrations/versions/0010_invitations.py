"""invitation: an event's guest list, personal invitations, reminders and answers

Revision ID: 0010_invitations
Revises: 0009_badge_role
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_invitations'
down_revision = '0009_badge_role'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('first_name', sa.String(length=100), nullable=False),
        sa.Column('last_name', sa.String(length=100), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('email_key', sa.String(length=254), nullable=False),
        sa.Column('organisation', sa.String(length=200), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=10), nullable=False),
        sa.Column('state', sa.Enum('not_sent', 'invited', 'registered', 'declined', 'bounced',
                                   name='invitationstate', native_enum=False, length=32), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('token_salt', sa.String(length=64), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reminders', sa.Integer(), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decline_message', sa.Text(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_invitation_category_id_category'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_invitation_event_id_event'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['registration_id'], ['registration.id'],
                                name=op.f('fk_invitation_registration_id_registration'), ondelete='SET NULL',
                                deferrable=True, initially='DEFERRED'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
        sa.UniqueConstraint('event_id', 'email_key', name=op.f('uq_invitation_event_id_email_key')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash')),
    )


def downgrade():
    op.drop_table('invitation')
