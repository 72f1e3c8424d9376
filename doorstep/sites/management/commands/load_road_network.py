"""Load a walking network for the 15-minute circle and make it the active one.

    manage.py load_road_network city.osm.pbf [--name 泸州市步行路网]
    manage.py load_road_network roads.geojson

An OpenStreetMap extract (``.pbf``, read with pyrosm's walking filter) or GeoJSON
LineString / MultiLineString features in WGS-84.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.core.errors import ValidationError
from doorstep.sites.services import road_network_load


class Command(BaseCommand):
    help = "Load a walking network (.pbf or .geojson) for the 15-minute circle."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            row = road_network_load(
                actor=None, name=options["name"] or path.stem, filename=path.name, path=path
            )
        except ValidationError as exc:
            lines = [str(m) for messages in exc.errors.values() for m in messages]
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(f"Loaded {row.name}: {row.nodes} nodes, {row.edges} edges.")
