"""inbox items: a small unit's bytes in its row, so one commit makes a group of mails durable (no blob fsyncs)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbox_items') as batch:
        batch.add_column(sa.Column('raw', sa.LargeBinary(), nullable=True))
        batch.create_index('ix_inbox_raw_sha256', ['raw_sha256'])


def downgrade() -> None:
    # Small units stored since the upgrade live only in this column: parked ones lose their bytes, and
    # messages stored from them can no longer be read again (deadline hand-overs re-parse them).
    with op.batch_alter_table('inbox_items') as batch:
        batch.drop_index('ix_inbox_raw_sha256')
        batch.drop_column('raw')
