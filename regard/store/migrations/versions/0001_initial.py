"""Collections, subjects, faces (templates) and user-registered models.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False, index=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("dimension", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.UniqueConstraint("tenant", "name", name="uq_collections_tenant_name"),
    )
    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "collection_id", sa.Integer, sa.ForeignKey("collections.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("external_id", sa.String(256), nullable=False),
        sa.Column("display_name", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("collection_id", "external_id", name="uq_subjects_collection_external"),
    )
    op.create_table(
        "faces",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("face_id", sa.String(32), nullable=False, unique=True),
        sa.Column(
            "collection_id", sa.Integer, sa.ForeignKey("collections.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column(
            "subject_id", sa.Integer, sa.ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
        sa.Column("x1", sa.Float, nullable=False),
        sa.Column("y1", sa.Float, nullable=False),
        sa.Column("x2", sa.Float, nullable=False),
        sa.Column("y2", sa.Float, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("quality", sa.JSON, nullable=False),
        sa.Column("image_sha256", sa.String(64), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "user_models",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("user_models")
    op.drop_table("faces")
    op.drop_table("subjects")
    op.drop_table("collections")
