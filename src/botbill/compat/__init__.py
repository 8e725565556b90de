"""The seed platform's public billing API (SPEC §9): API clients, JWT auth, and billing
sessions and usage summaries in the platform's own shapes."""
