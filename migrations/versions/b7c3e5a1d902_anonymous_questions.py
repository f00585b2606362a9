"""anonymous questions: a class may allow them; a message may be one

Revision ID: b7c3e5a1d902
Revises: b7e2c4a9f031
Create Date: 2026-12-04 00:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c3e5a1d902'
down_revision = 'b7e2c4a9f031'
branch_labels = None
depends_on = None


def upgrade():
    # add_column only: the message table is never recreated (docs/architecture.md).
    op.add_column('room', sa.Column('allow_anonymous_questions', sa.Boolean(), server_default='0', nullable=False))
    op.add_column('message', sa.Column('anonymous', sa.Boolean(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.drop_column('allow_anonymous_questions')
    # SQLite (3.35+) drops a column in place: no batch recreation of the message table.
    op.drop_column('message', 'anonymous')
