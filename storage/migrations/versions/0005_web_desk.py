"""web desk: used sign-in links, customers' status links

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:00:00
"""

from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_nonces',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('used_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce')
    )
    op.create_index('ix_sign_in_nonces_expires_at', 'sign_in_nonces', ['expires_at'])
    op.create_table('status_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_status_links_ticket_id', 'status_links', ['ticket_id'])


def downgrade() -> None:
    op.drop_index('ix_status_links_ticket_id', table_name='status_links')
    op.drop_table('status_links')
    op.drop_index('ix_sign_in_nonces_expires_at', table_name='sign_in_nonces')
    op.drop_table('sign_in_nonces')
