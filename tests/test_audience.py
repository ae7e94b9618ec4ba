"""The audience page, its votes and QR codes, through the real app on a real Redis."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from html import unescape

import pytest
import segno
from conftest import PET_OPTIONS, steady_window

from cyoa.voteserver import qr
from cyoa.voteserver.app import create_app
from cyoa.voteserver.store import Option

JSON = {"Accept": "application/json"}


class Phone:
    """One audience member's browser without JavaScript: a cookie jar and plain forms."""

    def __init__(self, client) -> None:
        self.client = client
        self.html = ""

    def load(self, path: str = "/") -> str:
        response = self.client.get(path)
        assert response.status_code == 200
        self.html = response.get_data(as_text=True)
        return self.html

    @property
    def csrf(self) -> str:
        return re.search(r'<meta name="csrf" content="([^"]+)"', self.html).group(1)

    def text(self) -> str:
        """What a person reads on the page (tags stripped, hidden parts left out)."""
        visible = re.sub(r"<(\w+)[^>]*\shidden[\s>].*?</\1>", " ", self.html, flags=re.S)
        visible = re.sub(r"<script.*?</script>|<(?!/?b>)[^>]+>", " ", visible, flags=re.S)
        visible = re.sub(r"</?b>", "", visible)
        return " ".join(unescape(visible).split())

    def vote(self, choice: str, poll: str = "product", headers: dict | None = None):
        data = {"poll": poll, "choice": choice, "csrf": self.csrf}
        return self.client.post("/vote", data=data, headers=headers or {})

    def vote_and_follow(self, choice: str, poll: str = "product") -> str:
        response = self.vote(choice, poll)
        assert response.status_code == 303
        return self.load(response.headers["Location"])


@pytest.fixture
def phone_client(client) -> Phone:
    return Phone(client)


def tally(store, talk_id: str, poll: str = "product") -> dict[str, int]:
    return {o["key"]: o["votes"] for o in store.results(talk_id, poll)["options"]}


def test_first_visit_waits_and_sets_a_signed_private_cookie(client, store, talk_id):
    response = client.get("/")
    assert "Waiting for the next decision" in response.get_data(as_text=True)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("cyoa_voter=w")
    for attribute in ("HttpOnly", "SameSite=Lax", "Max-Age=604800"):
        assert attribute in cookie
    assert "Secure" not in cookie
    assert store.audience(talk_id) == 0  # a page load that drops its cookie adds no one
    https = client.application.test_client().get("/", base_url="https://localhost")
    assert "Secure" in https.headers["Set-Cookie"]
    assert "Set-Cookie" not in client.get("/").headers  # the phone keeps its identity
    assert store.audience(talk_id) == 1  # and counts once it comes back with its cookie


def test_a_script_that_drops_its_cookies_adds_no_phone(client, store, talk_id):
    for _ in range(20):
        client.application.test_client().get("/")
    assert store.audience(talk_id) == 0


def test_page_works_without_javascript(phone_client, open_poll):
    html = phone_client.load()
    assert re.search(r'<noscript><meta http-equiv="refresh" content="\d+', html)
    assert '<form method="post" action="/vote"' in html
    assert html.count('name="choice"') == 2
    assert f'name="csrf" value="{phone_client.csrf}"' in html
    assert "Tap your choice" in phone_client.text()


def test_form_vote_redirects_and_the_page_shows_the_choice(phone_client, open_poll, store, talk_id):
    phone_client.load()
    response = phone_client.vote("2")
    assert (response.status_code, response.headers["Location"]) == (303, "/?m=counted")
    phone_client.load(response.headers["Location"])
    text = phone_client.text()
    assert "Thanks! Your vote is counted." in text
    assert "You chose “Dachshund Doc Send”. You can change it until voting closes." in text
    assert re.search(r'value="2" class="choice"\s+aria-pressed="true"', phone_client.html)
    assert "Total: 1 vote" in text
    assert tally(store, talk_id) == {"1": 0, "2": 1}


def test_changing_the_vote_moves_it(phone_client, open_poll, store, talk_id):
    phone_client.load()
    phone_client.vote_and_follow("1")
    phone_client.vote_and_follow("2")
    assert "Your vote is changed." in phone_client.text()
    assert "You chose “Dachshund Doc Send”" in phone_client.text()
    assert tally(store, talk_id) == {"1": 0, "2": 1}
    phone_client.vote_and_follow("2")
    assert "That was already your vote." in phone_client.text()
    assert tally(store, talk_id) == {"1": 0, "2": 1}


def test_a_closed_poll_refuses_the_vote_and_says_so(phone_client, open_poll, store, talk_id):
    phone_client.load()
    store.close_poll(talk_id, open_poll)
    phone_client.vote_and_follow("1")
    text = phone_client.text()
    assert "Not counted: voting on that question has closed." in text
    assert "Voting has closed." in text and "Final results" in text
    assert tally(store, talk_id) == {"1": 0, "2": 0}


@pytest.mark.parametrize(
    ("poll", "choice", "status", "message"),
    [
        ("nope", "1", 404, "Not counted: that question is no longer open."),
        ("product", "9", 400, "Not counted: that is not one of the options."),
        ("product", "<script>", 400, "Not counted: that is not one of the options."),
    ],
)
def test_unknown_polls_and_choices_are_refused(
    phone_client, open_poll, store, talk_id, poll, choice, status, message
):
    phone_client.load()
    answer = phone_client.client.post(
        "/vote", data={"poll": poll, "choice": choice, "csrf": phone_client.csrf}, headers=JSON
    )
    assert (answer.status_code, answer.get_json()["error"]) == (status, message)
    phone_client.vote_and_follow(choice, poll)
    assert message in phone_client.text()
    assert "<script>" not in phone_client.html
    assert tally(store, talk_id) == {"1": 0, "2": 0}


@pytest.mark.parametrize("token", ["", "forged-token", "other-voter"])
def test_votes_without_this_phones_csrf_token_are_refused(
    phone_client, client, open_poll, store, talk_id, token
):
    phone_client.load()
    if token == "other-voter":
        other = Phone(client.application.test_client())
        other.load()
        token = other.csrf
    form = {"poll": "product", "choice": "1", "csrf": token}
    assert client.post("/vote", data=form, headers=JSON).status_code == 403
    page = client.post("/vote", data=form)
    assert (page.status_code, page.headers["Location"]) == (303, "/?m=expired")
    phone_client.load(page.headers["Location"])
    assert "Not counted: this page had expired." in phone_client.text()
    assert tally(store, talk_id) == {"1": 0, "2": 0}


def test_a_vote_without_the_voter_cookie_is_refused(
    phone_client, client, open_poll, store, talk_id
):
    phone_client.load()
    client.delete_cookie("cyoa_voter")
    assert phone_client.vote("1", headers=JSON).status_code == 403
    assert tally(store, talk_id) == {"1": 0, "2": 0}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://localhost.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_votes_from_another_site_are_refused(phone_client, open_poll, store, talk_id, headers):
    phone_client.load()
    assert phone_client.vote("1", headers=headers).status_code == 403
    assert phone_client.vote("1", headers={**headers, **JSON}).status_code == 403
    assert tally(store, talk_id) == {"1": 0, "2": 0}
    same_site = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert phone_client.vote("1", headers=same_site).status_code == 303
    assert tally(store, talk_id) == {"1": 1, "2": 0}


def test_json_votes_answer_with_the_outcome(phone_client, open_poll, store, talk_id):
    phone_client.load()
    first = phone_client.vote("1", headers=JSON)
    assert (first.status_code, first.get_json()) == (
        200,
        {"ok": True, "outcome": "counted", "poll": "product", "choice": "1", "previous": ""},
    )
    changed = phone_client.vote("2", headers=JSON).get_json()
    assert (changed["outcome"], changed["previous"]) == ("changed", "1")
    store.close_poll(talk_id, open_poll)
    closed = phone_client.vote("1", headers=JSON)
    assert closed.status_code == 409 and "closed" in closed.get_json()["error"]
    assert tally(store, talk_id) == {"1": 0, "2": 1}


def test_a_flood_from_one_phone_is_rate_limited(config, talk_id, open_poll, store):
    window = steady_window()  # the five votes never straddle two windows (10 s ones could)
    app = create_app(replace(config, voter_rate=3, rate_window=window))
    phone = Phone(app.test_client())
    phone.load()
    answers = [phone.vote(c, headers=JSON) for c in "12121"]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert answers[-1].headers["Retry-After"] == str(window)
    phone.vote_and_follow("2")
    assert "Too many votes from this phone just now." in phone.text()
    assert tally(store, talk_id) == {"1": 1, "2": 0}


def test_live_feed_follows_the_poll(client, store, talk_id, open_poll):
    waiting = Phone(client)
    assert client.get("/api/live").get_json()["status"] in ("open", "waiting")
    waiting.load()
    live = client.get("/api/live", headers=JSON)
    body = live.get_json()
    # The same answer for every phone: no choice in it, and the counts of a poll that shows
    # them (the page shows them once its phone has voted).
    assert body["status"] == "open" and "choice" not in body
    assert body["results"] == {"votes": {"1": 0, "2": 0}, "total": 0, "winner": None}
    assert body["poll"]["options"] == [
        {"key": "1", "label": "Tinder for Pets"},
        {"key": "2", "label": "Dachshund Doc Send"},
    ]
    assert (
        client.get("/api/live", headers={"If-None-Match": live.headers["ETag"]}).status_code == 304
    )
    waiting.vote("1", headers=JSON)
    body = client.get("/api/live").get_json()
    assert (body["results"]["votes"], body["results"]["total"]) == ({"1": 1, "2": 0}, 1)
    store.close_poll(talk_id, open_poll)
    closed = client.get("/api/live").get_json()
    assert (closed["status"], closed["results"]["winner"]) == ("closed", "1")
    store.define_poll(talk_id, "next", "Where next?", PET_OPTIONS)
    store.open_poll(talk_id, "next")
    assert client.get("/api/live").get_json()["poll"]["id"] == "next"


def test_hidden_results_stay_hidden_until_the_poll_closes(phone_client, store, talk_id):
    store.define_poll(talk_id, "herd", "Which?", PET_OPTIONS, hide_results=True)
    store.open_poll(talk_id, "herd")
    phone_client.load()
    phone_client.vote_and_follow("1", "herd")
    assert "You chose “Tinder for Pets”" in phone_client.text()
    assert "Results appear when voting closes." in phone_client.text()
    assert "Live results" not in phone_client.text() and "1 (100%)" not in phone_client.text()
    assert phone_client.client.get("/api/live").get_json()["results"] is None
    store.close_poll(talk_id, "herd")
    phone_client.load()
    assert "Final results" in phone_client.text() and "1 (100%)" in phone_client.text()
    assert "Tinder for Pets (winner)" in phone_client.text()


def test_user_text_is_escaped(phone_client, store, talk_id):
    options = [Option("1", "<img src=x onerror=alert(1)>"), Option("2", "Fine")]
    store.define_poll(talk_id, "xss", "<script>alert(1)</script>", options)
    store.open_poll(talk_id, "xss")
    html = phone_client.load("/?m=<script>alert(2)</script>")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "alert(2)" not in html


def test_page_weighs_under_50_kb_and_its_assets_cache(phone_client, store, talk_id):
    labels = [f"Option {n}: a rather long label for a branch of the story" for n in range(9)]
    store.define_poll(
        talk_id,
        "big",
        "A long question? " * 10,
        [Option(str(n + 1), label) for n, label in enumerate(labels)],
    )
    store.open_poll(talk_id, "big")
    phone_client.load()
    html = phone_client.vote_and_follow("3", "big")
    assets = re.findall(r'(?:href|src)="(/assets/[^"]+)"', html)
    assert len(assets) == 2
    weight = len(html.encode())
    for url in assets:
        response = phone_client.client.get(url)
        assert response.status_code == 200
        assert response.cache_control.max_age == 31_536_000
        weight += len(response.data)
    assert weight < 50_000, f"page weighs {weight} bytes"
    print(f"audience page weight: {weight} bytes (HTML + CSS + JS)")


def test_with_redis_down_the_page_says_voting_is_paused(config):
    app = create_app(replace(config, redis_url="redis://127.0.0.1:1/0"))
    client = app.test_client()
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "2"
    html = page.get_data(as_text=True)
    assert "Voting is paused for a moment" in html and "<style" not in html  # CSP-safe
    assert "style-src 'self'" in page.headers["Content-Security-Policy"]
    css = re.search(r'href="(/assets/audience.css[^"]*)"', html).group(1)
    assert client.get(css).status_code == 200  # the stylesheet needs no Redis
    assert client.get("/api/live").status_code == 503


def test_qr_codes_encode_the_public_url(config, talk_id):
    public = "https://vote.example.org/"
    client = create_app(replace(config, public_url=public)).test_client()
    svg, png = client.get("/qr.svg"), client.get("/qr.png")
    assert (svg.status_code, svg.mimetype, png.status_code, png.mimetype) == (
        200,
        "image/svg+xml",
        200,
        "image/png",
    )
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert (
        svg.data.lstrip().startswith(b"<svg") and b'xmlns="http://www.w3.org/2000/svg"' in svg.data
    )

    def regenerate(url: str, kind: str, **options) -> bytes:
        out = io.BytesIO()
        segno.make(url, error="m", micro=False).save(out, kind=kind, **options)
        return out.getvalue()

    assert svg.data == regenerate(public, "svg", **qr.SVG_OPTIONS)
    assert png.data == regenerate(public, "png", **qr.PNG_OPTIONS)
    assert svg.data != regenerate("https://vote.example.org/other", "svg", **qr.SVG_OPTIONS)


def test_qr_code_falls_back_to_the_requests_host(client):
    svg = client.get("/qr.svg", base_url="http://192.168.1.20:8000")
    out = io.BytesIO()
    segno.make("http://192.168.1.20:8000/", error="m", micro=False).save(
        out, kind="svg", **qr.SVG_OPTIONS
    )
    assert svg.data == out.getvalue()
