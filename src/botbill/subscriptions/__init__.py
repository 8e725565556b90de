"""Subscriptions as admins see them: the Plan list, plan changes, entitlement."""
