"""Videos get a slug, unique within their project: the name of the video's folder in
exports, chosen from the title once and kept when the title changes, so links stay put.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from reeldocs.core.text import slugify

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _backfill(conn: sa.Connection) -> None:
    """Existing videos, oldest first in each project: the first keeps the title's slug,
    later ones with the same slug get -2, -3, …"""
    rows = conn.execute(
        sa.text("SELECT id, project_id, title FROM videos ORDER BY project_id, created_at, id")
    ).all()
    taken: dict[object, set[str]] = defaultdict(set)
    for video_id, project_id, title in rows:
        base = slugify(title, fallback="video")
        slug, number = base, 1
        while slug in taken[project_id]:
            number += 1
            slug = f"{base}-{number}"
        taken[project_id].add(slug)
        conn.execute(
            sa.text("UPDATE videos SET slug = :slug WHERE id = :id"), {"slug": slug, "id": video_id}
        )


def upgrade() -> None:
    op.execute("ALTER TABLE videos ADD COLUMN slug text")
    _backfill(op.get_bind())
    # Reeldocs always picks the slug from the title; the default only spares rows written by
    # other means (an operator's SQL) from having none.
    op.execute(
        """
ALTER TABLE videos
    ALTER COLUMN slug SET DEFAULT 'video-' || substr(md5(gen_random_uuid()::text), 1, 12),
    ALTER COLUMN slug SET NOT NULL,
    ADD CONSTRAINT videos_slug_shape CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$');
CREATE UNIQUE INDEX videos_project_slug ON videos (project_id, slug);
"""
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS videos_project_slug")
    op.execute("ALTER TABLE videos DROP COLUMN IF EXISTS slug")
