"""Expand: a nullable note on orchestrations, which the 0.1.0 code never reads.

Copied into the "next" release the lifecycle tests build; it is not a migration of this tree.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orchestrations", sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("orchestrations", "note")
