"""files that are not pictures: Attachment.kind and the uploader's own name, a wider mime, no picture fields for a file, and the uploader index the storage quota sums by

Revision ID: 442c1a7f42e2
Revises: 7d4e2a9c5b18
Create Date: 2026-12-03 08:16:15.421919

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '442c1a7f42e2'
down_revision = '7d4e2a9c5b18'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), server_default='image', nullable=False))
        batch_op.add_column(sa.Column('name', sa.String(length=255), nullable=True))
        batch_op.alter_column('mime',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.String(length=128),
               existing_nullable=False)
        batch_op.alter_column('width',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('height',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('thumb_width',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('thumb_height',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('thumb_mime',
               existing_type=sa.VARCHAR(length=32),
               nullable=True)
        batch_op.alter_column('thumb_path',
               existing_type=sa.VARCHAR(length=128),
               nullable=True)
        batch_op.create_index('ix_attachment_uploader_id', ['uploader_id'], unique=False)


def downgrade():
    # Rows of files cannot keep NULL picture fields: going back forgets them (their stored
    # files stay under UPLOAD_FOLDER until removed by hand).
    op.execute("DELETE FROM attachment WHERE kind != 'image'")
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_attachment_uploader_id')
        batch_op.alter_column('thumb_path',
               existing_type=sa.VARCHAR(length=128),
               nullable=False)
        batch_op.alter_column('thumb_mime',
               existing_type=sa.VARCHAR(length=32),
               nullable=False)
        batch_op.alter_column('thumb_height',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('thumb_width',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('height',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('width',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('mime',
               existing_type=sa.String(length=128),
               type_=sa.VARCHAR(length=32),
               existing_nullable=False)
        batch_op.drop_column('name')
        batch_op.drop_column('kind')
