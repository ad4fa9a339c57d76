from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from reeldocs.core.db import Base


class GlossaryTerm(Base):
    """One term of a project's glossary. `translations` maps a language code to the term's
    translation; a language without an entry keeps the term as it is."""

    __tablename__ = "glossary_terms"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    org_id: Mapped[uuid.UUID]
    project_id: Mapped[uuid.UUID]
    term: Mapped[str]
    translations: Mapped[dict[str, str]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
