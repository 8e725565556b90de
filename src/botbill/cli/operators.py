"""``botbill operator``: platform-operator keys, promotional credits, account types, the
seller's billing profile."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from botbill.cli.common import fail, migrated_engine
from botbill.kit.clock import SystemClock
from botbill.kit.db import unit_of_work
from botbill.settings import get_settings

operator_app = typer.Typer(no_args_is_help=True, help="Platform operators.")
operator_key_app = typer.Typer(no_args_is_help=True, help="Operator API keys.")
operator_app.add_typer(operator_key_app, name="key")
operator_credit_app = typer.Typer(no_args_is_help=True, help="Promotional credits.")
operator_app.add_typer(operator_credit_app, name="credit")
operator_workspace_app = typer.Typer(no_args_is_help=True, help="Workspaces' account types.")
operator_app.add_typer(operator_workspace_app, name="workspace")


@operator_key_app.command("create")
def operator_key_create(
    name: Annotated[str, typer.Option(help="Who or what holds the key.")] = "operator",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a platform-operator key (any workspace's operator actions; shown once)."""
    from botbill.auth.service import create_operator_key

    engine = migrated_engine()
    try:
        with unit_of_work(engine, write=True) as session:
            key, secret = create_operator_key(session, name=name, now=SystemClock().now())
    except ValueError as error:
        raise fail(str(error)) from None
    if as_json:
        print(json.dumps({"key_id": key.id, "api_key": secret, "scopes": ["operator"]}))
    else:
        print(secret)


@operator_credit_app.command("grant")
def operator_credit_grant(
    workspace: Annotated[str, typer.Option(help="Workspace id.")],
    app_id: Annotated[str, typer.Option("--app", help="App id.")],
    amount: Annotated[int, typer.Option(min=1, help="Minor units of the workspace currency.")],
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days until it lapses.")] = 30,
    reason: Annotated[str, typer.Option(help="Shown in the ledger.")] = "promotion",
) -> None:
    """Grant an app promotional credit (spent first; the unspent rest lapses at expiry)."""
    from botbill.audit.service import Actor
    from botbill.kit.instants import DAY, from_micros
    from botbill.kit.problems import Problem
    from botbill.orders.providers import card_provider
    from botbill.wallet.service import grant_promotion
    from botbill.workspaces.service import get_workspace

    settings = get_settings()
    engine = migrated_engine()
    now = SystemClock().now()
    try:
        with unit_of_work(engine, write=True) as session:
            entry = grant_promotion(
                session,
                get_workspace(session, workspace),
                app_id,
                amount=amount,
                expires_at=now + days * DAY,
                reason=reason,
                actor=Actor.cli(),
                cards=card_provider(settings.effective_card_provider),
                now=now,
            )
    except Problem as error:
        raise fail(error.detail) from None
    except ValueError as error:
        raise fail(str(error)) from None
    assert entry.expires_at is not None
    expires = from_micros(entry.expires_at).isoformat().replace("+00:00", "Z")
    print(json.dumps({"entry_id": entry.id, "amount": amount, "expires_at": expires}))


@operator_workspace_app.command("account-type")
def operator_workspace_account_type(
    workspace: Annotated[str, typer.Argument(help="Workspace id.")],
    account_type: Annotated[str, typer.Argument(help="self-serve or enterprise.")],
) -> None:
    """Move a workspace to or from enterprise; every app moves to its plan at once."""
    from botbill.audit.service import Actor
    from botbill.kit.problems import Problem
    from botbill.orders.providers import card_provider
    from botbill.plans.accounts import set_account_type

    settings = get_settings()
    try:
        with unit_of_work(migrated_engine(), write=True) as session:
            move = set_account_type(
                session,
                workspace,
                account_type,
                actor=Actor.cli(),
                cards=card_provider(settings.effective_card_provider),
                now=SystemClock().now(),
            )
    except Problem as error:
        raise fail(error.detail) from None
    print(
        json.dumps(
            {
                "workspace_id": move.workspace_id,
                "account_type": move.after,
                "apps_moved": move.moved,
                "apps_kept": move.kept,
            }
        )
    )


operator_seller_app = typer.Typer(
    no_args_is_help=True, help="The seller's billing profile, printed on every invoice."
)
operator_app.add_typer(operator_seller_app, name="seller-profile")


@operator_seller_app.command("show")
def operator_seller_show() -> None:
    """Print the seller's profile as JSON (the BOTBILL_SELLER_* settings until set)."""
    from botbill.invoicing.profiles import seller_profile
    from botbill.invoicing.schemas import seller_profile_out

    with unit_of_work(migrated_engine(), write=False) as session:
        seller = seller_profile(session)
    print(seller_profile_out(seller).model_dump_json())


@operator_seller_app.command("set")
def operator_seller_set(
    legal_name: Annotated[str, typer.Option(help="The seller's legal name.")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2, e.g. DE.")],
    tax_id: Annotated[str, typer.Option(help="The seller's VAT identifier.")],
    email: Annotated[str, typer.Option(help="The billing contact's address.")],
    address_line: Annotated[
        list[str] | None, typer.Option(help="An address line; repeat for each line.")
    ] = None,
) -> None:
    """Set the seller's profile: invoices issued from now on carry it."""
    from pydantic import ValidationError

    from botbill.audit.service import Actor
    from botbill.invoicing.profiles import set_seller_profile
    from botbill.invoicing.schemas import SellerProfileIn, seller_profile_out

    try:
        body = SellerProfileIn(
            legal_name=legal_name,
            address_lines=address_line or [],
            country=country,
            tax_id=tax_id,
            email=email,
        )
    except ValidationError as error:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise fail("; ".join(lines)) from None
    with unit_of_work(migrated_engine(), write=True) as session:
        seller = set_seller_profile(
            session, body.party(), actor=Actor.cli(), now=SystemClock().now()
        )
    print(seller_profile_out(seller).model_dump_json())


operator_user_app = typer.Typer(no_args_is_help=True, help="Operators who sign in.")
operator_app.add_typer(operator_user_app, name="user")


@operator_user_app.command("create")
def operator_user_create(
    email: Annotated[str, typer.Argument(help="The operator's email.")],
    name: Annotated[str, typer.Option(help="Shown in the console.")] = "",
) -> None:
    """Make EMAIL a platform operator who signs in to the console; the password is read
    from standard input (typed twice at a terminal)."""
    from botbill.audit.service import Actor
    from botbill.cli.people import read_new_password
    from botbill.kit.problems import Problem
    from botbill.people.service import create_operator

    password = read_new_password()
    engine = migrated_engine()
    try:
        with unit_of_work(engine, write=True) as session:
            operator = create_operator(
                session,
                email,
                name=name,
                password=password,
                actor=Actor.cli(),
                now=SystemClock().now(),
            )
    except Problem as error:
        raise fail(error.detail) from None
    print(f"operator {operator.email} created ({operator.id})")
