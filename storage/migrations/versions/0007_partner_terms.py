"""partner terms: deadlines per link, durable timers, digest opt-out

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:00:00

Self-contained: it touches only its own tables and one new column, so it
can be re-chained after other revisions without change.
"""

from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deadlines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('allowed_seconds', sa.Float(), nullable=False),
    sa.Column('spent_seconds', sa.Float(), nullable=False),
    sa.Column('running_since', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('due_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('started_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('met_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('breached_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['link_id'], ['links.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('link_id', 'kind')
    )
    op.create_index(op.f('ix_deadlines_link_id'), 'deadlines', ['link_id'], unique=False)
    op.create_table('timers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('deadline_id', sa.Integer(), nullable=True),
    sa.Column('fraction', sa.Float(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('due_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadlines.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_timers_agent_id'), 'timers', ['agent_id'], unique=False)
    op.create_index(op.f('ix_timers_deadline_id'), 'timers', ['deadline_id'], unique=False)
    op.create_index('ix_timers_status_due', 'timers', ['status', 'due_at'], unique=False)
    with op.batch_alter_table('agents') as batch:
        batch.add_column(sa.Column('digest_off', sa.Boolean(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('agents') as batch:
        batch.drop_column('digest_off')
    op.drop_index('ix_timers_status_due', table_name='timers')
    op.drop_index(op.f('ix_timers_deadline_id'), table_name='timers')
    op.drop_index(op.f('ix_timers_agent_id'), table_name='timers')
    op.drop_table('timers')
    op.drop_index(op.f('ix_deadlines_link_id'), table_name='deadlines')
    op.drop_table('deadlines')
