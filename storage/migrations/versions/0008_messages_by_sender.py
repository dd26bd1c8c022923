"""messages by sender, newest first: matching a forwarded original without reading every message

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:30:00
"""

from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_from_email', ['from_email', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_from_email')
