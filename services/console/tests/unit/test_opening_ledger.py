"""The member page's ledger shows an imported opening balance (M-19, L-02) like any entry: its kind, its cause (the
import and row) and its operator (who started the import), and the ledger's kind filter offers it; the import screen
lists the opening columns."""

from __future__ import annotations

from pathlib import Path

from console.domain.i18n import translator
from console.service.memberpage import LedgerPage
from jinja2 import Environment, FileSystemLoader

TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"
OPENING = {"id": 7, "kind": "opening", "program": "jewelry", "points": 1200, "spend": 0, "store_id": "XA-501",
           "receipt_no": None, "occurred_at": "2026-12-02T08:00:00+00:00", "operator": "H-9 @ store XA-501",
           "detail": {"reason": "opening balance (M-19): import I0123 row 2", "import_id": "I0123", "row_no": 2,
                      "operator": "H-9"}}


def render(name: str, lang: str, **ctx: object) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template(name).render(t=translator(lang), **ctx)


def test_m19_the_opening_entry_shows_with_its_cause_and_operator() -> None:
    for lang, label in (("zh", "期初积分"), ("en", "Opening balance")):
        html = render("_member_section.html", lang, section="ledger", member_id="M1", kind="",
                      ledger=LedgerPage([OPENING], None, None))
        row = html[html.index('data-entry="7"'):]
        row = row[:row.index("</tr>")]
        assert 'data-kind="opening"' in row and label in row and "1200" in row
        assert "opening balance (M-19): import I0123 row 2" in row
        assert '<td data-operator>H-9 @ store XA-501</td>' in row
        assert '<option value="opening"' in html  # the kind filter offers it


def test_m19_the_import_screen_lists_the_opening_columns() -> None:
    zh = translator("zh")("import_columns")
    en = translator("en")("import_columns")
    assert "期初积分" in zh and "期初等级" in zh and "10,000,000" in zh
    assert "opening_points" in en and "opening_tier" in en and "10,000,000" in en
    src = (TEMPLATES / "stores_imports.html").read_text(encoding="utf-8")
    assert "t('import_columns')" in src
