"""emoji reactions on messages: one row per (message, person, emoji), removed with either

Revision ID: 439e48c59225
Revises: 9e5f3b7a1c24
Create Date: 2026-12-03 08:07:35.063396

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '439e48c59225'
down_revision = '9e5f3b7a1c24'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('emoji', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_reaction_message_id_message'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_reaction_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reaction')),
    sa.UniqueConstraint('message_id', 'user_id', 'emoji', name=op.f('uq_reaction_message_id_user_id_emoji'))
    )
    with op.batch_alter_table('reaction', schema=None) as batch_op:
        batch_op.create_index('ix_reaction_user_id', ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('reaction', schema=None) as batch_op:
        batch_op.drop_index('ix_reaction_user_id')

    op.drop_table('reaction')
