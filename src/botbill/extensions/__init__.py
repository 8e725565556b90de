"""Plan-extension requests: an admin asks for N more days, an operator decides (SPEC §3.5)."""
