"""The audit log: every admin or operator action, who, what, when, before and after (SPEC §6)."""
