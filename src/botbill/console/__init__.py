"""The Billing console: server-rendered pages for people signed in (SPEC §5, §6)."""
