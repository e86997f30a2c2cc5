"""indicator revisions record the writing token

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 18:00:00.000000

Report and value revisions already kept the id of the token that wrote them; an indicator's
definition changes kept only its label. Rows written before this migration keep a null token_id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_indicator_revision_token_id_api_token"


def upgrade() -> None:
    with op.batch_alter_table("indicator_revision") as batch:
        batch.add_column(sa.Column("token_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(FOREIGN_KEY, "api_token", ["token_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("indicator_revision") as batch:
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch.drop_column("token_id")
