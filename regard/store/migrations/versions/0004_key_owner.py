"""api_keys.owner: the person a key belongs to, so reviews and approvals count people, not keys;
user_models.weights: a registered model's ONNX bytes, so every worker sharing the database can load it

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=256), nullable=False, server_default=""))
    with op.batch_alter_table("user_models") as batch_op:
        batch_op.add_column(sa.Column("weights", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_models") as batch_op:
        batch_op.drop_column("weights")
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("owner")
