"""The seed platform's public billing API (SPEC §9): API clients, JWT auth, billing sessions and usage summaries in its own shapes."""
