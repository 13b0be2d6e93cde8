"""review_cases.reviewers_required: the confirmations a case needs, fixed when it opens (cases opened
before this revision get the built-in floor of two).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_cases") as batch_op:
        batch_op.add_column(sa.Column("reviewers_required", sa.Integer(), nullable=False, server_default="2"))


def downgrade() -> None:
    with op.batch_alter_table("review_cases") as batch_op:
        batch_op.drop_column("reviewers_required")
