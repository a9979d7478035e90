"""Subscribers: the SQLite store, imports and exports, and segment rules."""
