"""Audit trail of coordinator actions."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent


async def record(
    session: AsyncSession,
    actor_person_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int | None,
    **detail: Any,
) -> None:
    session.add(
        AuditEvent(
            actor_person_id=actor_person_id,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail,
        )
    )
