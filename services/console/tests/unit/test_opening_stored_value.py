"""The member page's stored value statement shows an imported opening balance (M-19, L-11) under its own label with
its cause (import and row) and operator; the stored-value report lists imported balances in their own column, apart
from top-ups; the import screen's column help names the opening stored-value column and its bounds."""

from __future__ import annotations

from pathlib import Path

from console.domain import reports
from console.domain.i18n import translator
from console.domain.paging import paginate
from jinja2 import Environment, FileSystemLoader

TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"
OPENING = {"id": 3, "member_id": "M1", "program": "generic", "kind": "opening", "amount": 123450, "paid": 0,
           "bonus": 0, "shortfall": 0, "store_id": "HT-071", "receipt_no": None, "staff_id": "H-9",
           "cause_id": "c", "occurred_at": "2026-12-02T08:00:00+00:00",
           "detail": {"reason": "opening balance (M-19): import I0123 row 2", "import_id": "I0123", "row_no": 2,
                      "operator": "H-9"}}
TOPUP = {**OPENING, "id": 4, "kind": "topup", "amount": 110000, "paid": 100000, "bonus": 10000, "staff_id": "S-9",
         "detail": None}


def render(name: str, lang: str, **ctx: object) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template(name).render(t=translator(lang), **ctx)


def test_m19_l11_the_statement_labels_the_opening_and_shows_its_cause_and_operator() -> None:
    data = {"balances": {"generic": {"balance": 233450, "held": 0, "available": 233450}}, "entries": [TOPUP, OPENING]}
    for lang, opening, topup in (("zh", "期初储值", "充值"), ("en", "Opening stored value", "Top-up")):
        html = render("_member_section.html", lang, section="stored_value", member_id="M1", data=data,
                      page=paginate(data["entries"], 1, 20))
        row = html[html.index('data-sv-entry="3"'):]
        row = row[:row.index("</tr>")]
        assert 'data-kind="opening"' in row and f"<td>{opening}</td>" in row and "1234.50" in row
        assert "opening balance (M-19): import I0123 row 2" in row and "<td data-operator>H-9</td>" in row
        top = html[html.index('data-sv-entry="4"'):]
        assert f"<td>{topup}</td>" in top[:top.index("</tr>")]


def test_m19_r03_the_stored_value_report_shows_imported_balances_apart_from_top_ups() -> None:
    sv = reports.stored_value({"outstanding": {"program": {"generic": 132250}, "store": {}, "region": {}},
                               "programs": {"generic": {"opening": 0, "top_ups": 0, "bonus": 0, "imported": 132250,
                                                        "spend": 0, "refunds": 0, "closing": 132250,
                                                        "reconciled": True}}})
    assert "imported_yuan" in sv.header
    period = dict(zip(sv.header, sv.rows[-1], strict=True))
    assert (period["imported_yuan"], period["top_ups_yuan"], period["closing_yuan"]) == (1322.5, 0.0, 1322.5)
    for lang in ("zh", "en"):
        assert not translator(lang)("col.imported_yuan").startswith("col.")
    assert "report == 'stored_value'" in (TEMPLATES / "report.html").read_text(encoding="utf-8")
    assert "不是本期充值" in translator("zh")("sv.imported_note")
    assert "no top-up" in translator("en")("sv.imported_note")


def test_m19_the_import_screen_names_the_opening_stored_value_column() -> None:
    zh, en = translator("zh")("import_columns"), translator("en")("import_columns")
    assert "期初储值" in zh and "1,000,000.00" in zh and "两位小数" in zh
    assert "opening_stored_value" in en and "1,000,000.00" in en and "2 decimals" in en
