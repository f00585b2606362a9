"""read receipts: whether a person shares when they have read

Revision ID: 9e5f3b7a1c24
Revises: 442c1a7f42e2
Create Date: 2026-12-03 08:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e5f3b7a1c24'
down_revision = '442c1a7f42e2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share_reads', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('share_reads')
