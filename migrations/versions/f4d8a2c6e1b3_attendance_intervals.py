"""attendance intervals: when a member had a class room open, from presence; a class's weekly lessons

Revision ID: f4d8a2c6e1b3
Revises: b7c3e5a1d902
Create Date: 2026-12-04 01:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4d8a2c6e1b3'
down_revision = 'b7c3e5a1d902'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attendance_interval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_attendance_interval_room_id_room'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_attendance_interval_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_interval'))
    )
    with op.batch_alter_table('attendance_interval', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_interval_room_id_started_at', ['room_id', 'started_at'], unique=False)

    op.create_table('class_lesson',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_minute', sa.Integer(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_class_lesson_room_id_room'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_lesson'))
    )
    with op.batch_alter_table('class_lesson', schema=None) as batch_op:
        batch_op.create_index('ix_class_lesson_room_id', ['room_id'], unique=False)


def downgrade():
    with op.batch_alter_table('class_lesson', schema=None) as batch_op:
        batch_op.drop_index('ix_class_lesson_room_id')

    op.drop_table('class_lesson')
    with op.batch_alter_table('attendance_interval', schema=None) as batch_op:
        batch_op.drop_index('ix_attendance_interval_room_id_started_at')

    op.drop_table('attendance_interval')
