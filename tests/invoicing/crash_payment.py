"""Run as a process: pay an order by card, print the invoice number it took, then wait
(uncommitted) until killed. ``python crash_payment.py DATABASE_URL WORKSPACE_ID APP_ID``."""

from __future__ import annotations

import sys
import time

from botbill.kit.clock import SystemClock
from botbill.kit.db import build_engine, unit_of_work
from botbill.orders.providers import PaymentMethod, TestCardProvider
from botbill.wallet.service import place_funds_order
from botbill.workspaces.service import get_workspace


def main(database_url: str, workspace_id: str, app_id: str) -> None:
    engine = build_engine(database_url)
    with unit_of_work(engine, write=True) as session:
        order = place_funds_order(
            session,
            get_workspace(session, workspace_id),
            app_id,
            amount=10_000,
            method=PaymentMethod.CARD,
            token=TestCardProvider.OK,
            limits=(10_000, 2_000_000),
            cards=TestCardProvider(),
            now=SystemClock().now(),
        )
        print(f"taken {order.id} {order.invoice_id}", flush=True)
        time.sleep(600)  # killed here: between taking the number and committing


if __name__ == "__main__":
    main(*sys.argv[1:4])
