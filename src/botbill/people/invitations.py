"""Invitation links: where a new member sets a password, once, within 7 days.

The token is issued by ``POST /v1/members`` (``workspaces.service.invitation_token``)
and nothing of it is stored: it signs the member, its expiry and the member's password
state, so once a password is set (by this link, another, or the command line) every
earlier link of that member stops working.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from botbill.audit.service import Actor
from botbill.kit.instants import Micros
from botbill.kit.problems import Invalid
from botbill.people.service import password_hash_of, set_password
from botbill.workspaces.models import Member
from botbill.workspaces.service import invitation_signature


class InvitationState(StrEnum):
    OPEN = "open"
    """The person may set a password here."""
    HAS_PASSWORD = "has_password"
    """The email already has a password (one per email): sign in with it."""
    EXPIRED = "expired"
    SPENT = "spent"
    """Used already, or not a link botbill issued (never say which)."""


@dataclass(frozen=True, slots=True)
class Invitation:
    state: InvitationState
    member: Member | None = None


def read_invitation(session: Session, token: str, *, secret: str, now: Micros) -> Invitation:
    member_id, _, rest = token.partition(".")
    expires_text, _, signature = rest.partition(".")
    if not expires_text.isdigit() or len(expires_text) > 12 or "\x00" in member_id:
        return Invitation(InvitationState.SPENT)
    member = session.get(Member, member_id)
    if member is None:
        return Invitation(InvitationState.SPENT)
    expires = int(expires_text)
    expected = invitation_signature(member, expires, secret=secret)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return Invitation(InvitationState.SPENT)
    if expires * 1_000_000 <= now:
        return Invitation(InvitationState.EXPIRED, member)
    if password_hash_of(session, member.email) is not None:
        return Invitation(InvitationState.HAS_PASSWORD, member)
    return Invitation(InvitationState.OPEN, member)


def accept_invitation(
    session: Session, token: str, password: str, *, secret: str, now: Micros
) -> Member:
    """Set the invited member's password (for its email); refused unless the link is open."""
    invitation = read_invitation(session, token, secret=secret, now=now)
    if invitation.state is not InvitationState.OPEN or invitation.member is None:
        raise Invalid.at(["token"], invitation_refusal(invitation.state))
    member = invitation.member
    set_password(session, member.email, password, actor=Actor.person(member.id), now=now)
    return member


def invitation_refusal(state: InvitationState) -> str:
    return {
        InvitationState.OPEN: "",
        InvitationState.HAS_PASSWORD: "this email already has a password: sign in with it",
        InvitationState.EXPIRED: "this invitation link has expired: ask an admin for a new one",
        InvitationState.SPENT: "this invitation link has been used or is not valid",
    }[state]
