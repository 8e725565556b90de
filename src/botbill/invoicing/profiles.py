"""Billing profiles (SPEC §4): the seller's (the platform operator's) and each
workspace's. An invoice copies both as they are when it is issued.

Services flush; the caller commits. Every change is recorded in the audit log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from botbill.audit.service import Action, Actor, record, target
from botbill.invoicing.models import BillingProfile, SellerProfile
from botbill.invoicing.rules import Party, parse_tax_rate, rate_text
from botbill.kit.instants import Micros, from_micros
from botbill.kit.problems import Forbidden
from botbill.settings import get_settings
from botbill.workspaces.models import AccountType, Workspace

SELLER_ROW = 1


def refuse_enterprise(workspace: Workspace) -> None:
    """Enterprise workspaces are billed by contract: no orders, invoices or profile."""
    if workspace.account_type == AccountType.ENTERPRISE:
        raise Forbidden("orders and invoices are not available to enterprise workspaces")


# --- the seller ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seller:
    party: Party
    updated_at: datetime | None
    """``None`` while the profile is the settings' defaults."""


def seller_defaults() -> Party:
    """The ``BOTBILL_SELLER_*`` settings. Read here, not passed down: an invoice is issued
    deep inside a renewal or an auto-reload, and must never lack a seller."""
    settings = get_settings()
    return Party(
        legal_name=settings.seller_legal_name,
        address_lines=tuple(settings.seller_address_lines),
        country=settings.seller_country,
        tax_id=settings.seller_tax_id,
        email=settings.seller_email,
    )


def seller_profile(session: Session) -> Seller:
    row = session.get(SellerProfile, SELLER_ROW)
    if row is None:
        return Seller(seller_defaults(), None)
    party = Party(
        legal_name=row.legal_name,
        address_lines=tuple(row.address_lines),
        country=row.country,
        tax_id=row.tax_id,
        email=row.email,
    )
    return Seller(party, row.updated_at)


def set_seller_profile(session: Session, party: Party, *, actor: Actor, now: Micros) -> Seller:
    """An operator sets the seller's profile; invoices issued from now on carry it."""
    assert party.tax_id is not None  # the schema requires it
    assert party.email is not None
    before = seller_profile(session)
    row = session.get(SellerProfile, SELLER_ROW, with_for_update=True)
    if row is None:
        row = SellerProfile(id=SELLER_ROW)
        session.add(row)
    row.legal_name = party.legal_name
    row.address_lines = list(party.address_lines)
    row.country = party.country
    row.tax_id = party.tax_id
    row.email = party.email
    row.updated_at = from_micros(now)
    session.flush()
    record(
        session,
        workspace_id=None,
        actor=actor,
        action=Action.SELLER_PROFILE_SET,
        target=target("seller", "profile"),
        before=party_json(before.party),
        after=party_json(party),
        now=now,
    )
    return Seller(party, row.updated_at)


# --- the buyer ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Buyer:
    party: Party
    tax_rate: Decimal
    updated_at: datetime | None
    """``None`` until an admin sets the profile."""


def buyer_profile(session: Session, workspace: Workspace) -> Buyer:
    """The workspace's profile; until set, its name, the seller's country (an invoice must
    name the buyer's country), no tax id, no email, rate 0."""
    row = session.get(BillingProfile, workspace.id)
    if row is None:
        party = Party(
            legal_name=workspace.name,
            address_lines=(),
            country=seller_profile(session).party.country,
            tax_id=None,
            email=None,
        )
        return Buyer(party, Decimal(0), None)
    party = Party(
        legal_name=row.legal_name,
        address_lines=tuple(row.address_lines),
        country=row.country,
        tax_id=row.tax_id,
        email=row.billing_email,
    )
    return Buyer(party, parse_tax_rate(row.tax_rate), row.updated_at)


def set_buyer_profile(
    session: Session,
    workspace: Workspace,
    party: Party,
    *,
    tax_rate: Decimal,
    actor: Actor,
    now: Micros,
) -> Buyer:
    """An admin sets the workspace's profile; issued invoices keep the one they copied."""
    refuse_enterprise(workspace)
    before = buyer_profile(session, workspace)
    row = session.get(BillingProfile, workspace.id, with_for_update=True)
    if row is None:
        row = BillingProfile(workspace_id=workspace.id)
        session.add(row)
    row.legal_name = party.legal_name
    row.address_lines = list(party.address_lines)
    row.country = party.country
    row.tax_id = party.tax_id
    row.billing_email = party.email
    row.tax_rate = rate_text(tax_rate)
    row.updated_at = from_micros(now)
    session.flush()
    record(
        session,
        workspace_id=workspace.id,
        actor=actor,
        action=Action.BILLING_PROFILE_SET,
        target=target("workspace", workspace.id),
        before=None if before.updated_at is None else _buyer_json(before),
        after=_buyer_json(Buyer(party, tax_rate, row.updated_at)),
        now=now,
    )
    return Buyer(party, tax_rate, row.updated_at)


def party_json(party: Party) -> dict[str, Any]:
    fields = asdict(party)
    fields["address_lines"] = list(party.address_lines)
    return fields


def _buyer_json(buyer: Buyer) -> dict[str, Any]:
    fields = party_json(buyer.party)
    fields["billing_email"] = fields.pop("email")
    fields["tax_rate"] = rate_text(buyer.tax_rate)
    return fields
