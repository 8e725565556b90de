"""Tables of the webhooks package."""
