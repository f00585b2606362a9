"""polls: a moderator's question with options on a message, and one row per (poll, person, option) voted

Revision ID: b7c2e5a9f310
Revises: 8a4f6c2e9d17
Create Date: 2026-12-04 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c2e5a9f310'
down_revision = '8a4f6c2e9d17'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('poll',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('multiple', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('anonymous', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('hidden_until_closed', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_poll_closed_by_id_user')),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_poll_message_id_message'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_poll_room_id_room'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll')),
    sa.UniqueConstraint('message_id', name=op.f('uq_poll_message_id'))
    )
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.create_index('ix_poll_room_id', ['room_id'], unique=False)

    op.create_table('poll_option',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_poll_option_poll_id_poll'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_option')),
    sa.UniqueConstraint('poll_id', 'position', name=op.f('uq_poll_option_poll_id_position'))
    )
    op.create_table('poll_vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['option_id'], ['poll_option.id'], name=op.f('fk_poll_vote_option_id_poll_option'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_poll_vote_poll_id_poll'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_poll_vote_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_vote')),
    sa.UniqueConstraint('poll_id', 'user_id', 'option_id', name=op.f('uq_poll_vote_poll_id_user_id_option_id'))
    )
    with op.batch_alter_table('poll_vote', schema=None) as batch_op:
        batch_op.create_index('ix_poll_vote_user_id', ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('poll_vote', schema=None) as batch_op:
        batch_op.drop_index('ix_poll_vote_user_id')

    op.drop_table('poll_vote')
    op.drop_table('poll_option')
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.drop_index('ix_poll_room_id')

    op.drop_table('poll')
