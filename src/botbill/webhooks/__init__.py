"""Webhooks: endpoints per workspace, a delivery outbox written with each change, and the sender."""
