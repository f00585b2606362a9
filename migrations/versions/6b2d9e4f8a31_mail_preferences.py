"""e-mail to visitors and members: what each wants, and how far each e-mail has covered

Revision ID: 6b2d9e4f8a31
Revises: c3a1f7e2b9d4
Create Date: 2026-12-03 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6b2d9e4f8a31'
down_revision = 'c3a1f7e2b9d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_desk', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('mail_support', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('mail_direct', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('mail_mentions', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('mail_announcements', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('mailed_through_id', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transcript_on_resolve', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mailed_through_id', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mailed_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('mailed_at')
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_column('mailed_through_id')
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('transcript_on_resolve')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('mailed_through_id')
        batch_op.drop_column('mail_announcements')
        batch_op.drop_column('mail_mentions')
        batch_op.drop_column('mail_direct')
        batch_op.drop_column('mail_support')
        batch_op.drop_column('mail_desk')
