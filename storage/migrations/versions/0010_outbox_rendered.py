"""outbox items: the rendered mail in the row, no blob file to fsync per mail (big mail stays in the blob store)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_items') as batch:
        batch.add_column(sa.Column('rendered', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # Mail queued since the upgrade is only in this column: let the outbox drain first, or it cannot be sent.
    with op.batch_alter_table('outbox_items') as batch:
        batch.drop_column('rendered')
