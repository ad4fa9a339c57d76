from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reeldocs.core.db import Base

ROLES = ("owner", "editor", "viewer")
WRITER_ROLES = ("owner", "editor")


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    name: Mapped[str]
    slug: Mapped[str]
    personal: Mapped[bool] = mapped_column(server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class Member(Base):
    __tablename__ = "organization_members"

    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organizations.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    role: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class Invitation(Base):
    """An owner's invitation of an e-mail address into a team, pending until the person
    accepts (they become a member), declines, or an owner revokes it."""

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organizations.id"))
    email: Mapped[str]
    role: Mapped[str]
    invited_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
