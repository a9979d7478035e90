"""newsletter schema"""
from __future__ import annotations

import json
from pathlib import Path

import click



@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of edition.yaml.

    Point your editor's YAML plugin at it for completion and live checks, e.g. with this
    first line in edition.yaml:  # yaml-language-server: $schema=../../edition.schema.json
    """
    from newsletter.content.schema import edition_schema

    text = json.dumps(edition_schema(), indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


COMMANDS = [schema]
