"""Fill the zh_Hans catalog from its own msgids.

The source strings are already Simplified Chinese, so every translation in
locale/zh_Hans/LC_MESSAGES/django.po is simply its msgid. Chinese has one plural form,
so a plural entry keeps only msgstr[0], set to the singular msgid. Fuzzy flags are
dropped. Apps that keep their own catalog (doorstep/<app>/locale/) are filled too. Rerun after `make makemessages` has extracted new strings:

    .venv/bin/python scripts/fill_zh_catalog.py
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = "zh_Hans"
PO_PATH = ROOT / "locale" / LOCALE / "LC_MESSAGES" / "django.po"
PLURAL_FORMS = "nplurals=1; plural=0;"
# makemessages writes msgstr[0] and msgstr[1] for new plural entries; with one plural
# form Babel reports the second as extra and drops it, which is what we want.
EXTRA_PLURAL_WARNING = "more translations than num_plurals"


def read_catalog(po_path: Path) -> Catalog:
    captured = io.StringIO()
    # Previous-msgid lines ("#| msgid ...") go: the catalog is written without them, and
    # Babel reads only the first line of a wrapped one, keeping the rest as "# |" comments.
    source = b"".join(
        line
        for line in po_path.read_bytes().splitlines(keepends=True)
        if not line.startswith(b"#|")
    )
    with contextlib.redirect_stdout(captured):
        catalog = read_po(io.BytesIO(source), locale=LOCALE)
    lines = captured.getvalue().splitlines()
    for index, line in enumerate(lines):
        expected = EXTRA_PLURAL_WARNING in line or (
            index > 0 and EXTRA_PLURAL_WARNING in lines[index - 1]
        )
        if not expected:
            print(line)
    return catalog


def fill(catalog: Catalog) -> int:
    """Set every translation to its msgid and clear fuzzy flags; return how many changed."""
    changed = 0
    for message in catalog:
        if not message.id:  # the header entry
            continue
        wanted = (message.id[0],) if isinstance(message.id, (list, tuple)) else message.id
        if message.string != wanted or message.fuzzy:
            changed += 1
        message.string = wanted
        message.flags.discard("fuzzy")
    return changed


def main(po_path: Path = PO_PATH) -> int:
    catalog = read_catalog(po_path)
    changed = fill(catalog)
    # An empty "Language:" header in a fresh extraction resets the locale; pin it, and
    # pin the plural rule rather than trusting whatever the extracted header says.
    catalog.locale = LOCALE
    catalog.mime_headers = [("Plural-Forms", PLURAL_FORMS)]
    catalog.fuzzy = False
    if "LANGUAGE" in catalog.language_team:
        catalog.language_team = "Simplified Chinese"
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=79, include_previous=False)
    po_path.write_bytes(buffer.getvalue())
    print(f"{po_path.relative_to(ROOT)}: filled {changed} of {len(catalog)} message(s)")
    return 0


def all_catalogs() -> list[Path]:
    """The project catalog and the catalog of every app that keeps its own."""
    return [PO_PATH, *sorted((ROOT / "doorstep").glob(f"*/locale/{LOCALE}/LC_MESSAGES/django.po"))]


if __name__ == "__main__":
    sys.exit(max(main(path) for path in all_catalogs()))
