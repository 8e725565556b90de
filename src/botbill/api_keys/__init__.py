"""API key management: list, create and revoke a workspace's keys (API.md "API keys")."""
