"""Compile locale/*/LC_MESSAGES/*.po (and each app's doorstep/<app>/locale/) into .mo files with Babel, so that a fresh machine
needs no system gettext. Only out-of-date catalogs are rebuilt."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    compiled = 0
    catalogs = [*(ROOT / "locale").glob("*/LC_MESSAGES/*.po")]
    catalogs += (ROOT / "doorstep").glob("*/locale/*/LC_MESSAGES/*.po")
    for po_path in sorted(catalogs):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        compiled += 1
    if compiled:
        print(f"compiled {compiled} translation catalog(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
