"""classroom: moderation, questions, pins

Revision ID: d9fa8c713baf
Revises: 73822d9307f1
Create Date: 2026-11-29 01:58:46.977659

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd9fa8c713baf'
down_revision = '73822d9307f1'
branch_labels = None
depends_on = None

# Who deleted, pinned or answered a message: nullable references to user.id.
MESSAGE_USER_REFERENCES = ('deleted_by_id', 'pinned_by_id', 'answered_by_id')


def _add_user_reference(table, column):
    """A nullable column referencing user.id, added in place.

    SQLite cannot add a constraint to an existing table, and batch mode would recreate the
    message table (losing its AUTOINCREMENT and anything else defined on it). It can add a
    column with its own REFERENCES clause, though, when the column defaults to NULL. SQLite
    does not reflect an ON DELETE written that way, so there is none (autogenerate would
    otherwise see a difference forever); accounts are deactivated, never deleted.
    """
    name = f'fk_{table}_{column}_user'
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            f'ALTER TABLE {table} ADD COLUMN {column} INTEGER '
            f'CONSTRAINT {name} REFERENCES "user" (id)'
        )
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, 'user', [column], ['id'])


def upgrade():
    op.create_table('ban',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('banned_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['banned_by_id'], ['user.id'], name=op.f('fk_ban_banned_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_ban_room_id_room'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_ban_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ban')),
    sa.UniqueConstraint('room_id', 'user_id', name=op.f('uq_ban_room_id_user_id'))
    )
    op.create_table('moderation_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target_user_id', sa.Integer(), nullable=True),
    sa.Column('target_message_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_moderation_action_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_moderation_action_room_id_room'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_message_id'], ['message.id'], name=op.f('fk_moderation_action_target_message_id_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_user_id'], ['user.id'], name=op.f('fk_moderation_action_target_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_action'))
    )
    op.create_index('ix_moderation_action_room_id_id', 'moderation_action', ['room_id', 'id'], unique=False)

    # Every column below is added in place (ALTER TABLE ... ADD COLUMN, constant defaults):
    # no table is recreated, so message keeps its AUTOINCREMENT (ids are never reused).
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('muted_until', sa.DateTime(), nullable=True))

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('deleted_by_moderator', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('pinned_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('is_question', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('answered_at', sa.DateTime(), nullable=True))
    for column in MESSAGE_USER_REFERENCES:
        _add_user_reference('message', column)
    op.create_index('ix_message_room_id_sender_id_id', 'message', ['room_id', 'sender_id', 'id'], unique=False)

    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_class', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('join_code_expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('announcement_only', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('slow_mode_seconds', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.drop_column('slow_mode_seconds')
        batch_op.drop_column('announcement_only')
        batch_op.drop_column('join_code_expires_at')
        batch_op.drop_column('is_class')

    op.drop_index('ix_message_room_id_sender_id_id', table_name='message')
    # Dropping columns with references recreates the table on SQLite: keep its AUTOINCREMENT.
    with op.batch_alter_table('message', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        if op.get_bind().dialect.name != 'sqlite':  # SQLite's inline references go with the table copy
            for column in MESSAGE_USER_REFERENCES:
                batch_op.drop_constraint(f'fk_message_{column}_user', type_='foreignkey')
        for column in reversed(MESSAGE_USER_REFERENCES):
            batch_op.drop_column(column)
        batch_op.drop_column('answered_at')
        batch_op.drop_column('is_question')
        batch_op.drop_column('pinned_at')
        batch_op.drop_column('deleted_by_moderator')
        batch_op.drop_column('deleted_at')

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('muted_until')

    op.drop_index('ix_moderation_action_room_id_id', table_name='moderation_action')
    op.drop_table('moderation_action')
    op.drop_table('ban')
