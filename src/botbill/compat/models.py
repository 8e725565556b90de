"""Tables of the compat package."""
