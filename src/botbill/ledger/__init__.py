"""The prepaid ledger: append-only entries, promotional lots and running balances."""
