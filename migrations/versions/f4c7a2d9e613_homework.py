"""homework: a teacher's assignment on a message, one hand-in per (assignment, student), its handed-in files

Revision ID: f4c7a2d9e613
Revises: f4d8a2c6e1b3
Create Date: 2026-12-04 01:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4c7a2d9e613'
down_revision = 'f4d8a2c6e1b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('instructions', sa.Text(), server_default='', nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('allow_late', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_assignment_message_id_message'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_assignment_room_id_room'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment')),
    sa.UniqueConstraint('message_id', name=op.f('uq_assignment_message_id'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_room_id', ['room_id'], unique=False)

    op.create_table('hand_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), server_default='', nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('late', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('mark', sa.String(length=20), nullable=True),
    sa.Column('commented_at', sa.DateTime(), nullable=True),
    sa.Column('commented_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_hand_in_assignment_id_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['commented_by_id'], ['user.id'], name=op.f('fk_hand_in_commented_by_id_user')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_hand_in_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hand_in')),
    sa.UniqueConstraint('assignment_id', 'user_id', name=op.f('uq_hand_in_assignment_id_user_id'))
    )
    with op.batch_alter_table('hand_in', schema=None) as batch_op:
        batch_op.create_index('ix_hand_in_user_id', ['user_id'], unique=False)

    op.create_table('hand_in_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hand_in_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_hand_in_file_attachment_id_attachment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hand_in_id'], ['hand_in.id'], name=op.f('fk_hand_in_file_hand_in_id_hand_in'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hand_in_file')),
    sa.UniqueConstraint('attachment_id', name=op.f('uq_hand_in_file_attachment_id'))
    )


def downgrade():
    op.drop_table('hand_in_file')
    with op.batch_alter_table('hand_in', schema=None) as batch_op:
        batch_op.drop_index('ix_hand_in_user_id')

    op.drop_table('hand_in')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_room_id')

    op.drop_table('assignment')
