"""delivered positions: how far each member's devices have received a direct room or conversation

Revision ID: 5c8e1d2f7a40
Revises: 439e48c59225
Create Date: 2026-12-03 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c8e1d2f7a40'
down_revision = '439e48c59225'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no table copy): SQLite and PostgreSQL both fill it with the default.
    op.add_column('membership', sa.Column('delivered_id', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('delivered_id')
