"""The whole staff console crawled as each role (issue 12, O-02, M-07; issue 10: no 5xx at an edge).

A small but varied data set is seeded through the public APIs (stores, staff of every role, members of two stores,
a pending review, a sale through the gateway so ledgers and messages exist, a credit account, a campaign). Then each
role logs in over plain HTTP and every same-origin GET link (`href`, htmx `hx-get`) reachable from its menu is
followed breadth-first, within a bound. Asserted for every role:
- no response is a 5xx; every full page has the layout (menu and profile link) and no template text leaked;
  every download answers its content type;
- no page links to a screen the role may not use (SCREENS); asked for directly, such a screen is the console's
  refusal page (403), never the page and never a 5xx;
- a store role asking for another store's member gets members' M-07 refusal.
A per-role summary is printed."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter, deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx
import pytest
from console.domain.screens import MENU, may, menu
from devstack.testing import Stack, StackConfig, sql_value, wait_for
from markupsafe import escape
from notify.domain.templates import DEFAULTS
from vipcore.auth import Role

from tests.console.test_console_walkthrough import PASSWORD, mobile, seed
from tests.e2e.test_sale_fanout import sale

pytestmark = pytest.mark.integration

OTHER = "林雅婷"  # the member of the other store (SZ-901)
PAGES_PER_ROLE = 400
DEPTH = 4
SAME_SHAPE = 3  # query variants of one path shape (ids replaced) followed per role: pages, filters
LOGINS = {Role.STAFF: "C-REF", Role.STORE_CS_MANAGER: "C-CSM", Role.STORE_MANAGER: "C-GM",
          Role.HQ_CS: "C-HQCS", Role.HQ_ADMIN: "C-HQADM", Role.AUDITOR: "C-AUD"}
DOWNLOADS = {".csv": "text/csv", ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# a menu screen's page (the hrefs of base.html)
HREF = {"search": "/members", "aging": "/reports/aging"}
# a screen asked for directly by a role that does not use it: the menu's pages and a few others
DIRECT = {**{item: HREF.get(item, f"/{item}") for item in MENU}, "campaigns.create": "/campaigns/new",
          **{f"report.{n}": f"/reports/{n}" for n in ("liability", "stored_value", "movements", "kpi")}}
# the screen a console path belongs to, most specific first (None: every logged-in role, e.g. the member page's
# sections, each refused by its owning service)
SCREEN_OF: tuple[tuple[str, str], ...] = (
    (r"^/members/[^/]+/edit$", "file.edit"),
    (r"^/members/[^/]+/changes$", "file.changes"),
    (r"^/members/[^/]+/duplicates$", "file.merge"),
    (r"^/members(/[^/]+)?$", "search"),
    (r"^/reviews", "reviews"),
    (r"^/adjustments", "adjustments"),
    (r"^/campaigns/new", "campaigns.create"),
    (r"^/campaigns", "campaigns"),
    (r"^/reports/aging", "aging"),
    (r"^/reports/(liability|stored_value|movements|kpi)", "report.{0}"),
    (r"^/reports", "reports"),
    (r"^/ops", "ops"),
    (r"^/blacklist", "blacklist"),
    (r"^/deletions", "deletions"),
    (r"^/handovers", "handovers"),
    (r"^/imports", "imports"),
    (r"^/revisits", "revisits"),
    (r"^/sms", "sms"),
    (r"^/credit/(accounts|authorizations|receivables|payments|rebates|coupon_sales|staff)", "credit"),
    (r"^/credit/", "credit.lists"),
    (r"^/dashboard", "dashboard"),
    (r"^/desk", "desk"),
    (r"^/programs", "programs"),
    (r"^/exports", "exports"),
    (r"^/profile", "profile"),
)


def screen_of(path: str) -> str | None:
    for pattern, screen in SCREEN_OF:
        if found := re.search(pattern, path):
            return screen.format(*found.groups())
    return None


# the console's own template text left in a page: an expression with a call, attribute, filter or concatenation
# (`{{ t('app') }}`, `{% for x in page.rows %}`); notify's SMS templates show their own bare `{{ display_name }}`
LEAK = re.compile(r"\{\{[^}]*[.(|~\[][^}]*\}\}|\{%[^%]*[.(|~\[][^%]*%\}|Traceback \(most recent call last\)")


# notify's own SMS templates, shown (escaped) on its screens, are Jinja too: their expressions are not a leak
SMS_TEXT = {str(escape(m)) for body in DEFAULTS.values() for m in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", body)}


def leaked(page: str) -> str | None:
    return next((m.group(0) for m in LEAK.finditer(page) if m.group(0) not in SMS_TEXT), None)


def shape(path: str) -> str:
    """The path with its ids replaced: /members/M-123/sections/ledger → /members/*/sections/ledger."""
    return "/".join("*" if re.search(r"\d", part) else part for part in path.split("/"))


class Links(HTMLParser):
    """The GET links of a page: `href` of anchors and htmx `hx-get` (forms and other methods are not followed)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, bool]] = []  # (link, loaded by htmx)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "hx-get" or (name == "href" and tag == "a")):
                self.links.append((value, name == "hx-get"))


def links_of(text: str) -> list[tuple[str, bool]]:
    p = Links()
    p.feed(text)
    return p.links


async def seed_all(stack: Stack) -> dict[str, Any]:
    """The walk-through's stores, staff and members, and: an auditor; a member of the other store; a sale through
    the gateway (points, a ledger, a message); a credit account; a scheduled campaign."""
    data = await seed(stack)
    m = stack.url("members")
    r = await stack.admin.post(f"{m}/v1/staff", json=[{"staff_id": "C-AUD", "store_id": "HQ", "role": "auditor",
                                                       "position": "auditor", "name": "赵敏", "password": PASSWORD}])
    assert r.status_code == 201, r.text
    (other,) = await stack.add_members([{"store_id": "SZ-901", "full_name": OTHER, "mobile": mobile()}])
    r = await stack.admin.post(f"{stack.url('gateway')}/admin/stores/XA-901/api-keys")
    assert r.status_code in (200, 201), r.text
    key = r.json()["api_key"]
    await stack.wait_directory(key, data["carded"]["card_no"], timeout=60)
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {key}"},
                                 timeout=30) as pos:
        r = await pos.post("/v1/sales", json=sale("XA-901", "R-CRAWL-1", data["carded"]["card_no"], 128000))
        assert r.status_code == 201, r.text
    await wait_for(lambda: sql_value(stack.cfg, "credit", "SELECT count(*) FROM stores WHERE store_id = 'XA-901' "
                                     "HAVING count(*) = 1"), 30, "credit to know the store")
    r = await stack.admin.post(f"{stack.url('credit')}/v1/accounts", json={
        "name": "西安市高新区管委会", "customer_class": "government", "contact_mobile": "13912345678",
        "store_id": "XA-901", "responsible_staff_id": "C-REF", "line_leader_staff_id": "C-GM",
        "limit_amount": 10_000_000})
    assert r.status_code == 201, r.text
    r = await stack.admin.post(f"{stack.url('notify')}/v1/campaigns", json={
        "name": "中秋会员答谢", "segment": {"store_ids": ["XA-901"]},
        "scheduled_at": "2099-09-01T10:00:00+08:00", "template_body": "中秋快乐，到店领取月饼礼盒。"})
    assert r.status_code == 201, r.text
    await wait_for(lambda: sql_value(stack.cfg, "loyalty", "SELECT count(*) FROM ledger HAVING count(*) > 0"),
                   60, "the sale's points in loyalty")
    return {**data, "other": other}


async def log_in(c: httpx.AsyncClient, staff_id: str) -> None:
    page = await c.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, "the login form carries the CSRF token"
    r = await c.post("/login", data={"staff_id": staff_id, "password": PASSWORD, "csrf": token.group(1)})
    assert r.status_code == 303 and "console_session" in c.cookies, r.text[-500:]


class Crawl:
    def __init__(self, c: httpx.AsyncClient, role: Role, start: list[str]) -> None:
        self.c, self.role, self.start = c, role, start
        self.statuses: Counter[int] = Counter()
        self.problems: list[str] = []
        self.seen: set[tuple[str, bool]] = set()  # (target, as an htmx fragment)
        self.shapes: Counter[str] = Counter()
        self.lang_done = False

    def admit(self, link: str, here: str, hx: bool) -> str | None:
        """The same-origin URL to follow, or None."""
        if link.startswith(("javascript:", "#", "mailto:", "tel:")):
            return None
        url = urlsplit(urljoin(here, link))
        if url.netloc and url.netloc != urlsplit(str(self.c.base_url)).netloc:
            return None
        path = url.path
        if path.startswith("/static/") or path in ("/logout", "/login"):
            return None
        if path.startswith("/lang/"):
            if self.lang_done:
                return None
            self.lang_done = True
        target = path + (f"?{url.query}" if url.query else "")
        if (target, hx) in self.seen:
            return None
        return target

    async def run(self) -> None:
        # (target, depth, the page whose htmx loads it or None for a link)
        queue: deque[tuple[str, int, str | None]] = deque([("/", 0, None)] + [
            (HREF.get(item, f"/{item}"), 1, None) for item in menu(self.role)] + [(u, 1, None) for u in self.start])
        while queue and len(self.seen) < PAGES_PER_ROLE:
            target, depth, via_hx = queue.popleft()
            if (target, via_hx is not None) in self.seen:
                continue
            key = shape(urlsplit(target).path)
            if urlsplit(target).query and self.shapes[key] >= SAME_SHAPE:
                continue
            self.seen.add((target, via_hx is not None))
            self.shapes[key] += 1
            headers = {"HX-Request": "true"} if via_hx else {}
            r = await self.c.get(target, headers=headers, follow_redirects=True)
            self.statuses[r.status_code] += 1
            where = f"{self.role.value} GET {target} (from {via_hx or 'a link'})"
            if r.status_code >= 500:
                self.problems.append(f"{where}: {r.status_code} {r.text[-300:]}")
                continue
            if r.status_code >= 400:
                self.problems.append(f"{where}: {r.status_code}, a broken link")  # the role's own pages link it
                continue
            final = r.url.path
            if final == "/login":
                self.problems.append(f"{where}: sent to the login page (session lost)")
                continue
            ctype = r.headers.get("content-type", "")
            suffix = next((s for s in DOWNLOADS if urlsplit(target).path.endswith(s)), None)
            if suffix:
                if r.status_code == 200 and not ctype.startswith(DOWNLOADS[suffix]):
                    self.problems.append(f"{where}: download answered {ctype}")
                continue
            if "attachment" in r.headers.get("content-disposition", ""):
                if not ctype.startswith(tuple(DOWNLOADS.values())):
                    self.problems.append(f"{where}: a download of {ctype}")
                continue
            if not ctype.startswith("text/html"):
                self.problems.append(f"{where}: {ctype}, not a page")
                continue
            page = r.text
            leak = leaked(page)
            if leak:
                self.problems.append(f"{where}: template text leaked ({leak[:60]!r})")
            full = not via_hx
            if full and ("<html" not in page or 'data-nav="profile"' not in page):
                self.problems.append(f"{where}: no layout (html and menu)")
            for link, hx in links_of(page):
                nxt = self.admit(link, str(r.url), hx)
                if nxt is None:
                    continue
                screen = screen_of(urlsplit(nxt).path)
                if screen is not None and not may(self.role, screen):
                    self.problems.append(f"{where}: links to {nxt}, screen {screen!r} not for the role (O-02)")
                    continue
                if depth + 1 <= DEPTH:
                    queue.append((nxt, depth + 1, target if hx else None))


async def crawl_role(url: str, role: Role, staff_id: str, data: dict[str, Any]) -> tuple[str, list[str]]:
    """One role's crawl and direct requests: its summary line and the problems found."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        await log_in(c, staff_id)
        # the member search with a query (a bookmarkable URL) leads to member pages and their sections
        start = [f"/members?name={quote('郑')}", f"/members?mobile={data['pending']['mobile']}"] \
            if may(role, "search") else []
        crawl = Crawl(c, role, start)
        await crawl.run()
        problems = crawl.problems
        # O-02: a screen the role may not use, asked for directly, is refused (403 page), never shown
        for screen, target in DIRECT.items():
            if may(role, screen):
                continue
            r = await c.get(target, follow_redirects=True)
            crawl.statuses[r.status_code] += 1
            if r.status_code != 403 or "data-refusal" not in r.text or 'data-nav="profile"' not in r.text:
                problems.append(f"{role.value} GET {screen} (not its screen): {r.status_code}, "
                                f"{'a refusal' if 'data-refusal' in r.text else 'no refusal'}")
        # M-07: a store role is refused the file of another store's member (members decides): the page and its
        # edit form with the 403 page, its changes (a fragment) with the refusal in place
        if role in (Role.STAFF, Role.STORE_CS_MANAGER, Role.STORE_MANAGER):
            for path, status in (("", 403), ("/edit", 403), ("/changes", 200)):
                r = await c.get(f"/members/{data['other']['member_id']}{path}")
                crawl.statuses[r.status_code] += 1
                if r.status_code != status or "M-07" not in r.text or OTHER in r.text \
                        or 'data-nav="profile"' not in r.text:
                    problems.append(f"{role.value} GET another store's member{path}: {r.status_code}, "
                                    "no M-07 refusal")
        return (f"{role.value:17} {staff_id:8} pages {len(crawl.seen):4}  statuses "
                + " ".join(f"{k}:{v}" for k, v in sorted(crawl.statuses.items()))), problems


async def test_o02_m07_crawl_every_role_no_5xx_no_forbidden_links(stack_config: StackConfig) -> None:
    async with Stack(stack_config, services=("members", "loyalty", "credit", "notify", "gateway")) as stack:
        url = await stack.start_console()
        data = await seed_all(stack)
        started = time.monotonic()
        done = await asyncio.gather(*(crawl_role(url, role, staff_id, data) for role, staff_id in LOGINS.items()))
        print("\nconsole crawl, per role:\n" + "\n".join(line for line, _ in done)
              + f"\n{time.monotonic() - started:.1f} s crawling")
        problems = [p for _, found in done for p in found]
        assert not problems, "\n".join(problems[:60])
