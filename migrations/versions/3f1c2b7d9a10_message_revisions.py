"""revisions: a room's change counter and each message's latest change, for catch-up

Revision ID: 3f1c2b7d9a10
Revises: cca921fea4a4
Create Date: 2026-11-29 07:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f1c2b7d9a10'
down_revision = 'cca921fea4a4'
branch_labels = None
depends_on = None

# Existing rooms and messages start at 0: a client that connects after this migration reads its
# page afresh, and every later change takes a number above 0.


def upgrade():
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_message_room_id_revision', ['room_id', 'revision'], unique=False)


def downgrade():
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_room_id_revision')
        batch_op.drop_column('revision')

    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.drop_column('revision')
