"""imap folders: when first connected and first synced (history vs live)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 17:00:00
"""

from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('imap_folders') as batch:
        batch.add_column(sa.Column('connected_at', storage.models.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('synced_at', storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('imap_folders') as batch:
        batch.drop_column('synced_at')
        batch.drop_column('connected_at')
