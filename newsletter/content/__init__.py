"""Reading and validating editions: YAML + Markdown -> models, errors with file:line."""
