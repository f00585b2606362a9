"""archived classes and room exports: the end of term, and the whole history as a download

Revision ID: 8a4f6c2e9d17
Revises: 5c8e1d2f7a40
Create Date: 2026-12-03 12:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8a4f6c2e9d17'
down_revision = '5c8e1d2f7a40'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('room', sa.Column('archived_at', sa.DateTime(), nullable=True))
    op.create_table(
        'room_export',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('room_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('state', sa.String(length=16), server_default='queued', nullable=False),
        sa.Column('done', sa.Integer(), server_default='0', nullable=False),
        sa.Column('total', sa.Integer(), server_default='0', nullable=False),
        sa.Column('path', sa.String(length=80), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_room_export_state')),
        sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_room_export_room_id_room'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_room_export_requested_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_room_export')),
    )
    op.create_index('ix_room_export_room_id_id', 'room_export', ['room_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_room_export_room_id_id', table_name='room_export')
    op.drop_table('room_export')
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
