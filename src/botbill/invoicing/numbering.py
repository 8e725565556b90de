"""Taking the next number of a series (SPEC §4): gapless, never repeated.

The number is taken in the transaction that marks the order paid, as one upsert that
adds 1 to the series row (``invoice_series``) and returns the new value. On PostgreSQL
the updated row stays locked until that transaction ends, so concurrent payments take
their numbers one after the other, in commit order; on SQLite the writer's lock does the
same. A transaction that rolls back (a declined step, a crash, a killed process) takes
its increment with it, so the next payment gets the same number: no gap. Take the number
as late as possible in a transaction; everything that pays after it waits for the commit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from botbill.invoicing.models import InvoiceSeries
from botbill.invoicing.rules import DocumentKind, number_of
from botbill.kit.db import table_of, upsert_insert


def take_number(session: Session, kind: DocumentKind, year: int) -> str:
    series = table_of(InvoiceSeries)
    insert = upsert_insert(session)
    statement = insert(series).values(kind=kind.value, year=year, last_number=1)
    statement = statement.on_conflict_do_update(
        index_elements=[series.c.kind, series.c.year],
        set_={"last_number": series.c.last_number + 1},
    ).returning(series.c.last_number)
    sequence = session.execute(statement).scalar_one()
    return number_of(kind, year, int(sequence))
