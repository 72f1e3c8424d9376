"""The translation catalogs are complete and compiled, and the site switches language."""

from __future__ import annotations

import gettext
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from django.conf import settings

from doorstep.orgs.choices import UnitKind
from doorstep.orgs.services import unit_create

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
# The project catalog and those of apps that keep their own (doorstep/<app>/locale/).
LOCALE_DIRS = [LOCALE_DIR, *sorted((Path(settings.BASE_DIR) / "doorstep").glob("*/locale"))]
LOCALE_IDS = ["project" if d == LOCALE_DIR else d.parent.name for d in LOCALE_DIRS]
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"


def _po(locale_dir: Path, locale: str) -> Path:
    return locale_dir / locale / "LC_MESSAGES" / "django.po"


# %(name)s, %(n)d, %s, %5.2f … but not a literal "%%".
PYTHON_FORMAT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]")
TEMPLATE_VAR = re.compile(r"\{\{\s*([^}\s|]+)[^}]*\}\}")

HOME_HEADING_ZH = "我们服务的社区和村"
HOME_HEADING_EN = "Communities and villages we serve"


def _placeholders(text: str) -> Counter[str]:
    """Every python-format placeholder, keyed by its name and conversion (``n:d``)."""
    found: Counter[str] = Counter()
    for match in PYTHON_FORMAT.finditer(text.replace("%%", "")):
        found[f"{match.group(1) or ''}:{match.group(0)[-1]}"] += 1
    return found


def _template_vars(text: str) -> Counter[str]:
    return Counter(TEMPLATE_VAR.findall(text))


def _load(path: Path, locale: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _messages(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _ids(message: Message) -> tuple[str, ...]:
    """The msgid, or the msgid and msgid_plural of a plural entry."""
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def _strings(message: Message) -> tuple[str, ...]:
    """The msgstr, or msgstr[0], msgstr[1] … of a plural entry."""
    if isinstance(message.string, str):
        return (message.string,)
    return tuple(message.string or ())


def _pairs(message: Message) -> list[tuple[str, str]]:
    """(source, translation) pairs: the singular and plural forms line up in order."""
    sources, strings = _ids(message), _strings(message)
    sources += (sources[-1],) * max(0, len(strings) - len(sources))
    return list(zip(sources, strings, strict=False))


@pytest.fixture(scope="module", params=LOCALE_DIRS, ids=LOCALE_IDS)
def locale_dir(request: pytest.FixtureRequest) -> Path:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def en_catalog(locale_dir: Path) -> Catalog:
    return _load(_po(locale_dir, "en"), "en")


@pytest.fixture(scope="module")
def zh_catalog(locale_dir: Path) -> Catalog:
    return _load(_po(locale_dir, "zh_Hans"), "zh_Hans")


# --- the English catalog ------------------------------------------------------------


def test_en_catalog_header(en_catalog: Catalog) -> None:
    headers = dict(en_catalog.mime_headers)
    assert headers["Language"] == "en"
    assert headers["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert not en_catalog.fuzzy
    assert _messages(en_catalog)


def test_project_catalog_holds_the_shared_strings() -> None:
    assert len(_messages(_load(EN_PO, "en"))) > 100


def test_every_en_message_is_translated(en_catalog: Catalog) -> None:
    untranslated = []
    for message in _messages(en_catalog):
        strings = _strings(message)
        if len(strings) != len(_ids(message)) or not all(s.strip() for s in strings):
            untranslated.append(_ids(message)[0])
    assert untranslated == []


def test_no_en_message_is_fuzzy(en_catalog: Catalog, locale_dir: Path) -> None:
    assert [m.id for m in _messages(en_catalog) if m.fuzzy] == []
    assert "#, fuzzy" not in _po(locale_dir, "en").read_text(encoding="utf-8")


def test_en_translations_are_not_chinese(en_catalog: Catalog) -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    still_chinese = [
        source
        for message in _messages(en_catalog)
        for source, translation in _pairs(message)
        if han.search(translation)
    ]
    assert still_chinese == []


def test_en_translations_keep_placeholders(en_catalog: Catalog) -> None:
    mismatched = []
    for message in _messages(en_catalog):
        for source, translation in _pairs(message):
            if _placeholders(source) != _placeholders(translation):
                mismatched.append((source, translation))
            if _template_vars(source) != _template_vars(translation):
                mismatched.append((source, translation))
    assert mismatched == []


def test_python_format_flag_matches_placeholders(en_catalog: Catalog) -> None:
    """A message with placeholders is flagged python-format, so gettext tools check it."""
    unflagged = [
        message.id
        for message in _messages(en_catalog)
        if any(_placeholders(source) for source, _ in _pairs(message))
        and "python-format" not in message.flags
    ]
    assert unflagged == []


def test_placeholder_helpers_notice_a_difference() -> None:
    assert _placeholders("共 %(n)s 条") != _placeholders("%(n)d items")
    assert _placeholders("%(kind)s 在 %(parent)s") != _placeholders("%(kind)s only")
    assert _placeholders("100%% 完成") == Counter()
    assert _template_vars("{{ n }} 个") != _template_vars("{{ count }} items")


# --- the Chinese catalog ------------------------------------------------------------


def test_zh_catalog_header(zh_catalog: Catalog) -> None:
    headers = dict(zh_catalog.mime_headers)
    assert headers["Language"] == "zh_Hans"
    assert headers["Plural-Forms"] == "nplurals=1; plural=0;"
    assert not zh_catalog.fuzzy


def test_every_zh_message_is_its_own_translation(zh_catalog: Catalog) -> None:
    wrong = [
        _ids(message)[0]
        for message in _messages(zh_catalog)
        if _strings(message) != _ids(message)[:1] or message.fuzzy
    ]
    assert wrong == []


def test_zh_catalog_has_one_plural_form(locale_dir: Path) -> None:
    text = _po(locale_dir, "zh_Hans").read_text(encoding="utf-8")
    assert "msgstr[1]" not in text
    assert "#, fuzzy" not in text


def test_zh_catalog_keeps_no_stray_previous_msgids(locale_dir: Path) -> None:
    text = _po(locale_dir, "zh_Hans").read_text(encoding="utf-8")
    assert "\n# | " not in text


def test_fill_zh_catalog_drops_a_wrapped_previous_msgid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    sys.path.insert(0, str(Path(settings.BASE_DIR) / "scripts"))
    try:
        import fill_zh_catalog
    finally:
        sys.path.pop(0)
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        '#: x.py\n#, fuzzy\n#| msgid ""\n#| "旧的第一行"\n#| "旧的第二行"\n'
        'msgid "新的"\nmsgstr "旧的"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(fill_zh_catalog, "ROOT", tmp_path)
    assert fill_zh_catalog.main(po) == 0
    text = po.read_text(encoding="utf-8")
    assert 'msgid "新的"\nmsgstr "新的"' in text
    assert "旧的" not in text and "fuzzy" not in text


def _translations_by_catalog() -> dict[
    tuple[str | None, tuple[str, ...]], dict[str, tuple[str, ...]]
]:
    """(context, msgid) → {catalog: its English}, over the project's and every app's."""
    found: dict[tuple[str | None, tuple[str, ...]], dict[str, tuple[str, ...]]] = {}
    for locale_dir, name in zip(LOCALE_DIRS, LOCALE_IDS, strict=True):
        for message in _messages(_load(_po(locale_dir, "en"), "en")):
            found.setdefault((message.context, _ids(message)), {})[name] = _strings(message)
    return found


def test_a_message_has_one_english_across_catalogs() -> None:
    """Django merges the catalogs into one, where the project's and then the first app
    in INSTALLED_APPS win: a Chinese text translated two ways shows one of them on every
    page, e.g. a withdraw button reading "Log out". The same words that need different
    English take a context (``pgettext``, ``{% translate … context … %}``)."""
    clashes = {
        f"{context + '|' if context else ''}{ids[0]}": english
        for (context, ids), english in _translations_by_catalog().items()
        if len(set(english.values())) > 1
    }
    assert clashes == {}


def test_catalogs_have_the_same_messages(en_catalog: Catalog, zh_catalog: Catalog) -> None:
    def ids(catalog: Catalog) -> set[tuple[str, ...]]:
        return {_ids(message) for message in _messages(catalog)}

    assert ids(en_catalog) == ids(zh_catalog)


# --- the compiled catalogs ----------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_mo_file_is_compiled_and_current(locale_dir: Path, locale: str) -> None:
    po_path = _po(locale_dir, locale)
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.is_file(), f"run scripts/compile_messages.py to build {mo_path}"
    with mo_path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for message in _messages(_load(po_path, locale)):
        ids, strings, context = _ids(message), _strings(message), message.context
        if len(ids) == 2:
            singular, plural = ids
            if context:
                one = compiled.npgettext(context, singular, plural, 1)
                many = compiled.npgettext(context, singular, plural, 2)
            else:
                one = compiled.ngettext(singular, plural, 1)
                many = compiled.ngettext(singular, plural, 2)
            if one != strings[0]:
                stale.append(singular)
            if many != strings[-1]:
                stale.append(plural)
        elif context and compiled.pgettext(context, ids[0]) != strings[0]:
            stale.append(f"{context}|{ids[0]}")
        elif not context and compiled.gettext(ids[0]) != strings[0]:
            stale.append(ids[0])
    assert stale == [], "the .mo file is out of date: run scripts/compile_messages.py"


# --- the site in each language ------------------------------------------------------


@pytest.fixture
def directory() -> None:
    """A county with two communities, so the home page shows a plural count."""
    county = unit_create(kind=UnitKind.COUNTY, name="示范县", code="330122")
    street = unit_create(kind=UnitKind.STREET, name="示范街道", parent=county)
    unit_create(kind=UnitKind.COMMUNITY, name="东社区", parent=street)
    unit_create(kind=UnitKind.COMMUNITY, name="西社区", parent=street)


@pytest.mark.django_db
def test_home_in_english_from_accept_language(client, directory) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert HOME_HEADING_EN in html
    assert HOME_HEADING_ZH not in html
    assert "2 communities/villages" in html
    assert ">Log in<" in html


@pytest.mark.django_db
def test_home_in_chinese_from_accept_language(client, directory) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-Hans">' in html
    assert HOME_HEADING_ZH in html
    assert HOME_HEADING_EN not in html
    assert "2 个社区/村" in html


@pytest.mark.django_db
def test_home_defaults_to_chinese(client) -> None:
    html = client.get("/").content.decode()
    assert HOME_HEADING_ZH in html
    assert HOME_HEADING_EN not in html


@pytest.mark.django_db
def test_set_language_sets_the_cookie_and_switches(client) -> None:
    assert settings.LANGUAGE_COOKIE_NAME == "doorstep_language"
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies["doorstep_language"].value == "en"

    html = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert HOME_HEADING_EN in html
    assert HOME_HEADING_ZH not in html

    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.cookies["doorstep_language"].value == "zh-hans"
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert HOME_HEADING_ZH in html
    assert HOME_HEADING_EN not in html


@pytest.mark.django_db
def test_set_language_ignores_unknown_languages(client) -> None:
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert "doorstep_language" not in response.cookies
    assert HOME_HEADING_ZH in client.get("/").content.decode()


# --- the templates --------------------------------------------------------------------

# Chinese punctuation: what English writes half-width, with a space after.
FULL_WIDTH = re.compile(r"[：，；（）、。！？]")
_TRANSLATED_OR_CODE = re.compile(
    r"\{%\s*blocktranslate.*?\{%\s*endblocktranslate\s*%\}"
    r"|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}|\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}",
    re.S,
)


def _bare_punctuation(template: str) -> list[str]:
    """Full-width punctuation in a template's own markup (not inside a translated
    string, a tag or a variable), which an English page would show as it is."""
    markup = _TRANSLATED_OR_CODE.sub("", template)
    return [markup[max(0, m.start() - 12) : m.end() + 12] for m in FULL_WIDTH.finditer(markup)]


def test_templates_keep_no_bare_chinese_punctuation() -> None:
    """A label's colon, a list's 、 and brackets around a note are translated
    ({% translate "：" %} is ": " in English), or the English page reads "Documents：…"."""
    templates = sorted((Path(settings.BASE_DIR) / "doorstep").glob("*/templates/**/*.html"))
    assert len(templates) > 100
    bare = {
        str(path.relative_to(settings.BASE_DIR)): found
        for path in templates
        if (found := _bare_punctuation(path.read_text(encoding="utf-8")))
    }
    assert bare == {}


def test_the_punctuation_check_sees_markup_only() -> None:
    assert _bare_punctuation("<p>{% translate '材料' %}：{{ x }}</p>") == ["<p>：</p>"]
    assert (
        _bare_punctuation('{% translate "材料：" %}{% translate "：" %}{{ a|default:"，" }}') == []
    )
    assert _bare_punctuation("{% blocktranslate %}共（{{ n }}）{% endblocktranslate %}") == []
