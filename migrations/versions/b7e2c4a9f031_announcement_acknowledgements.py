"""announcements that must be acknowledged: the flag on the pin, each student's acknowledgement, reminders

Revision ID: b7e2c4a9f031
Revises: b7c2e5a9f310
Create Date: 2026-12-04 00:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2c4a9f031'
down_revision = 'b7c2e5a9f310'
branch_labels = None
depends_on = None


def upgrade():
    # add_column, never a batch copy of the message table.
    op.add_column('message', sa.Column('needs_ack', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'acknowledgement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_acknowledgement_message_id_message'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_acknowledgement_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_acknowledgement')),
        sa.UniqueConstraint('message_id', 'user_id', name=op.f('uq_acknowledgement_message_id_user_id')),
    )
    op.create_index('ix_acknowledgement_user_id', 'acknowledgement', ['user_id'], unique=False)
    op.create_table(
        'ack_reminder',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('sent_by_id', sa.Integer(), nullable=True),
        sa.Column('reminded', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_ack_reminder_message_id_message'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sent_by_id'], ['user.id'], name=op.f('fk_ack_reminder_sent_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ack_reminder')),
    )
    op.create_index('ix_ack_reminder_message_id_id', 'ack_reminder', ['message_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_ack_reminder_message_id_id', table_name='ack_reminder')
    op.drop_table('ack_reminder')
    op.drop_index('ix_acknowledgement_user_id', table_name='acknowledgement')
    op.drop_table('acknowledgement')
    op.drop_column('message', 'needs_ack')  # SQLite >= 3.35 drops it in place
