"""support desk: teams, availability, routing, labels, business hours, episodes

Episodes are the stored facts of the desk's reports (each open-to-resolved stretch of a conversation).

Revision ID: 8d7a13dc9df4
Revises: 5b0c4e1f2a77
Create Date: 2026-12-02 18:17:35.803923

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d7a13dc9df4'
down_revision = '5b0c4e1f2a77'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('label',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('colour', sa.String(length=7), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label')),
    sa.UniqueConstraint('name', name=op.f('uq_label_name'))
    )
    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('name', name=op.f('uq_team_name'))
    )
    op.create_table('agent_state',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=16), server_default='online', nullable=False),
    sa.Column('last_active_at', sa.DateTime(), nullable=True),
    sa.Column('announced', sa.String(length=16), server_default='offline', nullable=False),
    sa.Column('last_assigned_at', sa.DateTime(), nullable=True),
    sa.Column('cap', sa.Integer(), nullable=True),
    sa.CheckConstraint("announced IN ('online', 'away', 'offline')", name=op.f('ck_agent_state_announced')),
    sa.CheckConstraint("choice IN ('online', 'away')", name=op.f('ck_agent_state_choice')),
    sa.CheckConstraint('cap IS NULL OR cap >= 1', name=op.f('ck_agent_state_cap')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_agent_state_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_agent_state'))
    )
    op.create_table('team_member',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('is_lead', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_team_member_team_id_team'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_team_member_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_team_member'))
    )
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.create_index('ix_team_member_user_id', ['user_id'], unique=False)

    op.create_table('conversation_label',
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('label_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['user.id'], name=op.f('fk_conversation_label_added_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_conversation_label_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['label_id'], ['label.id'], name=op.f('fk_conversation_label_label_id_label'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'label_id', name=op.f('pk_conversation_label'))
    )
    with op.batch_alter_table('conversation_label', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_label_label_id', ['label_id'], unique=False)

    op.create_table('episode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('first_response_at', sa.DateTime(), nullable=True),
    sa.Column('first_responder_id', sa.Integer(), nullable=True),
    sa.Column('agent_replies', sa.Integer(), server_default='0', nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['user.id'], name=op.f('fk_episode_assignee_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_episode_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['first_responder_id'], ['user.id'], name=op.f('fk_episode_first_responder_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], name=op.f('fk_episode_resolved_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_episode_site_id_site'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_episode'))
    )
    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.create_index('ix_episode_conversation_id', ['conversation_id'], unique=False)
        batch_op.create_index('ix_episode_resolved_at', ['resolved_at'], unique=False)
        batch_op.create_index('ix_episode_site_id_opened_at', ['site_id', 'opened_at'], unique=False)

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_since', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('assigned_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_conversation_assignee_id_status', ['assignee_id', 'status'], unique=False)
        batch_op.create_index('ix_conversation_waiting_since', ['waiting_since'], unique=False)

    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('routing', sa.String(length=16), server_default='manual', nullable=False))
        batch_op.add_column(sa.Column('agent_cap', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('requeue_on_offline', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False))
        batch_op.add_column(sa.Column('schedule', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('holidays', sa.JSON(), server_default='[]', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_site_team_id_team'), 'team', ['team_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(batch_op.f('ck_site_routing'), "routing IN ('manual', 'auto')")
        batch_op.create_check_constraint(batch_op.f('ck_site_agent_cap'), 'agent_cap IS NULL OR agent_cap >= 1')

    # The facts reports count, for conversations that exist already: one episode each, from the
    # visitor's first message (or the first message at all) to its resolution if it is resolved;
    # its first response is the first staff reply visitors could see after that.
    op.execute("""
        INSERT INTO episode (conversation_id, site_id, opened_at, resolved_at, assignee_id, agent_replies)
        SELECT c.id, c.site_id,
               COALESCE((SELECT min(m.created_at) FROM message m WHERE m.room_id = c.room_id
                         AND m.sender_id = c.visitor_id),
                        (SELECT min(m.created_at) FROM message m WHERE m.room_id = c.room_id)),
               CASE WHEN c.status = 'resolved' THEN COALESCE(c.resolved_at, c.updated_at) END,
               CASE WHEN c.status = 'resolved' THEN c.assignee_id END,
               (SELECT count(*) FROM message m WHERE m.room_id = c.room_id AND m.sender_id <> c.visitor_id
                AND NOT m.internal)
        FROM conversation c WHERE c.last_message_at IS NOT NULL
    """)
    op.execute("""
        UPDATE episode SET
            first_response_at = (SELECT min(m.created_at) FROM message m JOIN conversation c ON c.room_id = m.room_id
                                 WHERE c.id = episode.conversation_id AND m.sender_id <> c.visitor_id
                                 AND NOT m.internal AND m.created_at >= episode.opened_at),
            first_responder_id = (SELECT m.sender_id FROM message m JOIN conversation c ON c.room_id = m.room_id
                                  WHERE c.id = episode.conversation_id AND m.sender_id <> c.visitor_id
                                  AND NOT m.internal AND m.created_at >= episode.opened_at
                                  ORDER BY m.id LIMIT 1)
    """)
    op.execute("""
        UPDATE conversation SET waiting_since = last_message_at
        WHERE status = 'open' AND assignee_id IS NULL AND last_message_at IS NOT NULL
    """)



def downgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_site_agent_cap'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_site_routing'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_site_team_id_team'), type_='foreignkey')
        batch_op.drop_column('holidays')
        batch_op.drop_column('schedule')
        batch_op.drop_column('timezone')
        batch_op.drop_column('requeue_on_offline')
        batch_op.drop_column('agent_cap')
        batch_op.drop_column('routing')
        batch_op.drop_column('team_id')

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_waiting_since')
        batch_op.drop_index('ix_conversation_assignee_id_status')
        batch_op.drop_column('assigned_at')
        batch_op.drop_column('waiting_since')

    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.drop_index('ix_episode_site_id_opened_at')
        batch_op.drop_index('ix_episode_resolved_at')
        batch_op.drop_index('ix_episode_conversation_id')

    op.drop_table('episode')
    with op.batch_alter_table('conversation_label', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_label_label_id')

    op.drop_table('conversation_label')
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.drop_index('ix_team_member_user_id')

    op.drop_table('team_member')
    op.drop_table('agent_state')
    op.drop_table('team')
    op.drop_table('label')
