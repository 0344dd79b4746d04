"""Tables of the analytics domain: NPS surveys and their responses. Everything else analytics
reads is in the warehouse."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bcone.core.db import Base, IdMixin, TimestampMixin, utcnow
from bcone.core.tenancy import TenantScoped


class NpsSurvey(IdMixin, TimestampMixin, TenantScoped, Base):
    """A Net Promoter Score survey: one 0-10 question and a free-text follow-up, answered on a
    public page (``/nps/{id}``) reached by link or from the scan page."""

    __tablename__ = "analytics_nps_surveys"
    __table_args__ = (CheckConstraint("status IN ('active', 'closed')", name="status"),)

    name: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(String(500))
    follow_up: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")


class NpsResponse(IdMixin, TenantScoped, Base):
    """One answer: the score, the free text and where it came from (store, SKU, region, code)."""

    __tablename__ = "analytics_nps_responses"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 10", name="score"),
        Index("ix_analytics_nps_responses_survey", "tenant_id", "survey_id", "created_at"),
    )

    survey_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("analytics_nps_surveys.id", ondelete="CASCADE")
    )
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    profile_id: Mapped[str | None] = mapped_column(String(36))
    org_id: Mapped[str | None] = mapped_column(String(36))
    sku: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(6))
    serial: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
