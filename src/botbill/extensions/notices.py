"""The extension notices of the Plan list (SPEC §3.6), shown by ``subscriptions/overview.py``.

Each app shows the notice of its latest request only:

- ``extension_requested`` while it is pending;
- ``extension_approved`` / ``extension_rejected`` for 7 days after the decision
  (:data:`~botbill.extensions.rules.DECISION_SHOWN_FOR`), or until the app asks again.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from botbill.extensions.models import ExtensionRequest
from botbill.extensions.rules import DECISION_SHOWN_FOR, Status
from botbill.kit.instants import Micros
from botbill.plans.notices import Notice, NoticeType
from botbill.plans.periods import local_date_text
from botbill.workspaces.models import Workspace


def extension_notices(
    session: Session, workspace_id: str, app_ids: Collection[str], now: Micros
) -> dict[str, list[Notice]]:
    """The extension notices of each of ``app_ids`` that has one, as of ``now``."""
    if not app_ids:
        return {}
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        return {}
    rows = session.scalars(
        select(ExtensionRequest).where(
            ExtensionRequest.workspace_id == workspace_id,
            ExtensionRequest.app_id.in_(list(app_ids)),
            or_(
                ExtensionRequest.status == Status.PENDING.value,
                ExtensionRequest.decided_at > now - DECISION_SHOWN_FOR,
            ),
        )
    )
    latest: dict[str, ExtensionRequest] = {}
    for row in rows:
        if _later(latest.get(row.app_id), row):
            latest[row.app_id] = row
    tz = workspace.timezone
    notices: dict[str, list[Notice]] = {}
    for app_id, request in latest.items():
        if request.status == Status.PENDING.value:
            since = local_date_text(request.requested_at, tz)
            notice = Notice(
                NoticeType.EXTENSION_REQUESTED,
                f"{request.days} more days requested on {since}; awaiting a decision",
            )
        elif request.status == Status.APPROVED.value:
            assert request.period_end_after is not None
            until = local_date_text(request.period_end_after, tz)
            notice = Notice(
                NoticeType.EXTENSION_APPROVED,
                f"{request.days} more days approved: the period now ends on {until}"
                + _note(request.note),
            )
        else:
            notice = Notice(
                NoticeType.EXTENSION_REJECTED,
                f"the request for {request.days} more days was rejected" + _note(request.note),
            )
        notices[app_id] = [notice]
    return notices


def _note(note: str | None) -> str:
    return f" ({note})" if note else ""


def _later(shown: ExtensionRequest | None, candidate: ExtensionRequest) -> bool:
    """Whether ``candidate`` is a later request than ``shown``. An app has at most one
    pending request, asked after every decided one, so: pending first, then the latest
    decision."""
    if shown is None:
        return True
    return _recency(candidate) > _recency(shown)


def _recency(request: ExtensionRequest) -> tuple[bool, int, int]:
    pending = request.status == Status.PENDING.value
    return pending, request.decided_at or 0, request.requested_at
