"""Who is calling: workspace API keys, platform-operator keys, and the request checks."""
