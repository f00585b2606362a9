"""languages: a user's interface language and a site's widget language

Revision ID: cca921fea4a4
Revises: ec54bb247ea8
Create Date: 2026-11-29 04:03:19.361327

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'cca921fea4a4'
down_revision = 'ec54bb247ea8'
branch_labels = None
depends_on = None

# Both nullable: None means "automatic" (the browser's language; for a site, the host page's).


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))

    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('language')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('language')
