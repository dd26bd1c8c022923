"""telegram chats, the bot's posts, the order of one chat's updates, messages by Telegram-only agents

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 01:45:00
"""

from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('telegram_chats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('wants_new_ticket', sa.Boolean(), nullable=False),
    sa.Column('started_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chat_id')
    )
    op.create_table('telegram_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('outbox_item_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbox_item_id'], ['outbox_items.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chat_id', 'message_id')
    )
    with op.batch_alter_table('telegram_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_telegram_posts_ticket_id'), ['ticket_id'], unique=False)
    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence_key', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_inbox_sequence', ['sequence_key', 'status', 'id'], unique=False)
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_agent_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_messages_author_agent_id_agents', 'agents', ['author_agent_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint('fk_messages_author_agent_id_agents', type_='foreignkey')
        batch_op.drop_column('author_agent_id')
    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_sequence')
        batch_op.drop_column('sequence_key')
    with op.batch_alter_table('telegram_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_telegram_posts_ticket_id'))
    op.drop_table('telegram_posts')
    op.drop_table('telegram_chats')
