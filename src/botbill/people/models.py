"""Tables of the people package."""
