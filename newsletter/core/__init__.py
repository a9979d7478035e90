"""Shared plumbing used by every stage, importing none of them: the error hierarchy
(``errors``), the editor-safe YAML reader that keeps file:line (``yamlsrc``), pydantic error
mapping (``validation``), workspace settings (``config``) and the delivery adapters' names
(``adapters``), the atomic file writer and path display (``files``), SQLite connections and
transactions (``db``) and the signed reader tokens (``tokens``)."""
