"""The engine: the background passes that keep metering, rating and subscriptions current."""
