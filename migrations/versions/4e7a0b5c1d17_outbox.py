"""outbox: what leaves the server (e-mail, webhooks), stored with the change that caused it

Revision ID: 4e7a0b5c1d17
Revises: 8d7a13dc9df4
Create Date: 2026-12-02 21:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4e7a0b5c1d17'
down_revision = '8d7a13dc9df4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('event_id', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('run_after', sa.DateTime(), nullable=False),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('lease_token', sa.String(length=32), nullable=True),
    sa.Column('coalesce_key', sa.String(length=120), nullable=True),
    sa.Column('subject', sa.String(length=80), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_outbox_job_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_job')),
    sa.UniqueConstraint('coalesce_key', name=op.f('uq_outbox_job_coalesce_key')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_job_event_id'))
    )
    with op.batch_alter_table('outbox_job', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_job_state_run_after', ['state', 'run_after'], unique=False)
        batch_op.create_index('ix_outbox_job_subject', ['subject'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_job', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_job_subject')
        batch_op.drop_index('ix_outbox_job_state_run_after')

    op.drop_table('outbox_job')
