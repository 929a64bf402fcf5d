"""Bounds on hostile input shared by both HTTP surfaces, the MWAA API and the task API (pure):
per-key rate limiting, and how deep a decoded JSON value may nest."""
