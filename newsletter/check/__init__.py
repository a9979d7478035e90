"""Checking: findings over an edition and its rendered variants (`newsletter check`).

In: a loaded edition (``content``) and its rendered variants (``render``).
Out: ``EditionReport`` objects holding ``Finding`` (error or warning, code, message, file:line).
"""
