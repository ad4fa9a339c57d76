from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reeldocs.core.db import Base


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    org_id: Mapped[uuid.UUID]
    name: Mapped[str]
    slug: Mapped[str]
    # Its docs site answers anyone, not only its team's members.
    public_docs: Mapped[bool] = mapped_column(server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), server_onupdate=sa.FetchedValue()
    )
