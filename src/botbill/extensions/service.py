"""Plan-extension requests: asked by an admin, decided once by an operator (SPEC §3.5).

Both writes lock the app's subscription first and bring it up to date (``lock_current``),
so they see the period as it is now and never interleave with its renewal, and record
themselves in the audit log in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botbill.audit.service import Action, Actor, record, target
from botbill.extensions.models import ExtensionRequest
from botbill.extensions.rules import RefusalKind, Standing, Status, extended_end, refusal
from botbill.kit.ids import new_id
from botbill.kit.instants import Micros, from_micros
from botbill.kit.problems import Conflict, Forbidden, Invalid, NotFound
from botbill.orders.providers import CardProvider
from botbill.plans.catalog_store import catalog
from botbill.plans.models import Subscription
from botbill.plans.renewals import lock_current
from botbill.plans.service import ACTIVE, CANCELLED, EXPIRED, current_period
from botbill.webhooks.events import EventType
from botbill.webhooks.outbox import announce
from botbill.workspaces.models import AccountType, Workspace
from botbill.workspaces.service import get_app, get_workspace


def _standing(session: Session, workspace: Workspace, subscription: Subscription) -> Standing:
    return Standing(
        plan=catalog(session)[subscription.plan_code],
        enterprise_account=workspace.account_type == AccountType.ENTERPRISE,
        cancelled=subscription.state == CANCELLED,
        period_end=subscription.period_end,
        tz=workspace.timezone,
    )


def _pending(session: Session, workspace_id: str, app_id: str) -> ExtensionRequest | None:
    return session.scalars(
        select(ExtensionRequest).where(
            ExtensionRequest.workspace_id == workspace_id,
            ExtensionRequest.app_id == app_id,
            ExtensionRequest.status == Status.PENDING.value,
        )
    ).one_or_none()


def request_extension(
    session: Session,
    workspace: Workspace,
    app_id: str,
    *,
    days: int,
    reason: str,
    actor: Actor,
    cards: CardProvider,
    now: Micros,
) -> ExtensionRequest:
    """A new pending request for ``days`` more days of the app's current (or just ended)
    period. Refused: 403 for plans that take no extension, 409 while another request is
    pending or when the state allows none, 422 when the extension would end in the past."""
    get_app(session, workspace.id, app_id)
    if workspace.account_type == AccountType.ENTERPRISE:
        raise Forbidden(
            "an enterprise workspace's terms are set by its contract; ask your account manager"
        )
    subscription = lock_current(session, workspace, app_id, cards=cards, now=now)
    found = refusal(_standing(session, workspace, subscription), days=days, now=now)
    if found is not None and found.kind is not RefusalKind.DAYS:
        raise (Forbidden if found.kind is RefusalKind.FORBIDDEN else Conflict)(found.message)
    pending = _pending(session, workspace.id, app_id)
    if pending is not None:
        raise Conflict(f"request {pending.id} for this app is still pending; one request at a time")
    if found is not None:
        raise Invalid.at(["body", "days"], found.message)
    request = ExtensionRequest(
        id=new_id("ext"),
        workspace_id=workspace.id,
        app_id=app_id,
        days=days,
        reason=reason,
        status=Status.PENDING.value,
        requested_at=now,
        requested_by=actor.id,
    )
    session.add(request)
    try:
        session.flush()
    except IntegrityError:  # a concurrent request of the same app won (SQLite cannot race)
        raise Conflict("another request for this app is pending; one request at a time") from None
    record(
        session,
        workspace_id=workspace.id,
        actor=actor,
        action=Action.EXTENSION_REQUESTED,
        target=target("app", app_id),
        before=None,
        after={"request_id": request.id, "days": days, "reason": reason, "status": "pending"},
        now=now,
    )
    announce(
        session,
        workspace_id=workspace.id,
        type=EventType.EXTENSION_REQUESTED,
        data={
            "app_id": app_id,
            "extension_request_id": request.id,
            "days": days,
            "reason": reason,
        },
        now=now,
    )
    return request


def get_request(session: Session, workspace_id: str, request_id: str) -> ExtensionRequest:
    """A workspace's request, or 404 whether unknown or another workspace's."""
    request = None if "\x00" in request_id else session.get(ExtensionRequest, request_id)
    if request is None or request.workspace_id != workspace_id:
        raise NotFound(f"no extension request {request_id!r}")
    return request


@dataclass(frozen=True, slots=True)
class Decided:
    request: ExtensionRequest
    workspace: Workspace


def decide(
    session: Session,
    request_id: str,
    *,
    approve: bool,
    note: str | None,
    actor: Actor,
    cards: CardProvider,
    now: Micros,
) -> Decided:
    """An operator's decision. Approval moves the end of the app's period current at the
    decision by the days asked (an app that expired at that end is active again); deciding
    a request twice is 409."""
    found = None if "\x00" in request_id else session.get(ExtensionRequest, request_id)
    if found is None:
        raise NotFound(f"no extension request {request_id!r}")
    workspace = get_workspace(session, found.workspace_id)
    # The subscription first, then the request: the order in which requests are made.
    subscription = lock_current(session, workspace, found.app_id, cards=cards, now=now)
    request = session.scalars(
        select(ExtensionRequest)
        .where(ExtensionRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if request.status != Status.PENDING.value:
        assert request.decided_at is not None
        raise Conflict(
            f"request {request.id} was already {request.status} at "
            f"{from_micros(request.decided_at).isoformat().replace('+00:00', 'Z')}"
        )
    before = {
        "request_id": request.id,
        "status": request.status,
        "period_end": _instant_text(subscription.period_end),
        "state": subscription.state,
    }
    if approve:
        refused = refusal(_standing(session, workspace, subscription), days=request.days, now=now)
        if refused is not None:
            raise Conflict(f"the request cannot be approved now: {refused.message}; reject it")
        _extend(session, workspace, subscription, request, now=now)
    else:
        request.status = Status.REJECTED.value
    request.decided_at = now
    request.decided_by = actor.id
    request.note = note
    session.flush()
    record(
        session,
        workspace_id=workspace.id,
        actor=actor,
        action=Action.EXTENSION_DECIDED,
        target=target("app", request.app_id),
        before=before,
        after={
            "request_id": request.id,
            "status": request.status,
            "period_end": _instant_text(subscription.period_end),
            "state": subscription.state,
            "note": note,
        },
        now=now,
    )
    announce(
        session,
        workspace_id=workspace.id,
        type=EventType.EXTENSION_APPROVED if approve else EventType.EXTENSION_REJECTED,
        data={
            "app_id": request.app_id,
            "extension_request_id": request.id,
            "days": request.days,
            "note": note,
            "period_end": from_micros(subscription.period_end),
        },
        now=now,
    )
    return Decided(request, workspace)


def _extend(
    session: Session,
    workspace: Workspace,
    subscription: Subscription,
    request: ExtensionRequest,
    *,
    now: Micros,
) -> None:
    old_end = subscription.period_end
    new_end = extended_end(old_end, request.days, workspace.timezone)
    period = current_period(session, subscription)
    period.end = new_end
    subscription.period_end = new_end
    if subscription.state == EXPIRED:
        subscription.state = ACTIVE
        subscription.expired_because = None
    if not catalog(session)[subscription.plan_code].is_trial:
        # The next monthly period starts where this one now ends: a new series anchored
        # there, of which the extended period stands just before (index -1), so that
        # ``bring_up_to_date`` opens period 0 of it at ``new_end``.
        subscription.anchor = new_end
        subscription.period_index = -1
    subscription.updated_at = from_micros(now)
    request.status = Status.APPROVED.value
    request.period_end_before = old_end
    request.period_end_after = new_end


def _instant_text(instant: Micros) -> str:
    return from_micros(instant).isoformat().replace("+00:00", "Z")


def list_requests(
    session: Session,
    workspace_id: str | None,
    *,
    status: Status | None = None,
    app_id: str | None = None,
    after: tuple[int, str] | None = None,
    limit: int = 50,
) -> list[ExtensionRequest]:
    """Requests newest first; ``workspace_id`` ``None`` lists every workspace's (operators)."""
    query = select(ExtensionRequest)
    if workspace_id is not None:
        query = query.where(ExtensionRequest.workspace_id == workspace_id)
    if status is not None:
        query = query.where(ExtensionRequest.status == status.value)
    if app_id is not None:
        query = query.where(ExtensionRequest.app_id == app_id)
    if after is not None:
        at, request_id = after
        query = query.where(
            (ExtensionRequest.requested_at < at)
            | ((ExtensionRequest.requested_at == at) & (ExtensionRequest.id < request_id))
        )
    order = (ExtensionRequest.requested_at.desc(), ExtensionRequest.id.desc())
    return list(session.scalars(query.order_by(*order).limit(limit)))
