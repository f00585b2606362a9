"""replies: the message a message answers

Revision ID: 7d4e2a9c5b18
Revises: 1602c93c65ca
Create Date: 2026-12-03 08:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d4e2a9c5b18'
down_revision = '1602c93c65ca'
branch_labels = None
depends_on = None

NAME = 'fk_message_reply_to_id_message'
# As of ec54bb247ea8: SQLite drops a table's triggers with the table, so the downgrade, which
# must copy `message` (SQLite cannot drop a column that references), creates them again.
FTS_TRIGGERS = (
    "CREATE TRIGGER message_fts_ai AFTER INSERT ON message BEGIN "
    "INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER message_fts_ad AFTER DELETE ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER message_fts_au AFTER UPDATE OF body ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body); END",
)


def _sqlite():
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    # In place: batch mode would copy `message`, losing its AUTOINCREMENT and its search
    # triggers. SQLite can add a column with its own REFERENCES clause when it defaults to
    # NULL (without ON DELETE, which SQLite would not reflect: messages are never deleted).
    if _sqlite():
        op.execute(f'ALTER TABLE message ADD COLUMN reply_to_id INTEGER CONSTRAINT {NAME} REFERENCES message (id)')
    else:
        op.add_column('message', sa.Column('reply_to_id', sa.Integer(), nullable=True))
        op.create_foreign_key(NAME, 'message', 'message', ['reply_to_id'], ['id'])


def downgrade():
    if not _sqlite():
        op.drop_constraint(NAME, 'message', type_='foreignkey')
        op.drop_column('message', 'reply_to_id')
        return
    with op.batch_alter_table('message', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('reply_to_id')
    for trigger in FTS_TRIGGERS:
        op.execute(trigger)
