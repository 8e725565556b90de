"""``python -m botbill.cli``: the ``botbill`` command (how ``serve`` starts its worker)."""

from botbill.cli import app

app()
