"""Webhooks: a project's endpoints, told when its jobs end, by signed requests."""
