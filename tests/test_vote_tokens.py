"""Non-ASCII tokens are refused like any wrong token, never a 500.

``hmac.compare_digest`` raises TypeError on a non-ASCII str. A phone, a proxy or a forger
may send any bytes in a cookie, a form field or a header, so every token check (CSRF token,
voter cookie MAC, presenter bearer token) must answer "no" to them. Checked on the functions,
then over real HTTP against ``cyoa serve``: the JSON fast path reads raw bytes itself.
"""

from __future__ import annotations

import re

import pytest
import requests
from conftest import PRESENTER_TOKEN, SECRET_KEY

from cyoa.voteserver import voters

BAD_TOKENS = ["é", "ü" * 22, "\udcff", "\x00", "A" * 21 + "é"]


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_token_checks_say_no_to_non_ascii(token):
    voter = voters.new_voter_id()
    assert voters.check_csrf(SECRET_KEY, voter, token) is False
    assert voters.read_voter(SECRET_KEY, f"{voter}.{token}") is None
    assert voters.read_voter(SECRET_KEY, f"w{token}.{token}") is None
    assert voters.read_voter(SECRET_KEY, f"wé1.{voters.sign_voter(SECRET_KEY, 'wé1')}") is None


def test_good_tokens_still_pass():
    voter = voters.new_voter_id()
    assert voters.check_csrf(SECRET_KEY, voter, voters.csrf_token(SECRET_KEY, voter))
    assert voters.read_voter(SECRET_KEY, voters.sign_voter(SECRET_KEY, voter)) == voter


@pytest.fixture
def served(start_server, talk_id):
    """A real `cyoa serve` with an open poll, and one phone's cookie and CSRF token."""
    server = start_server()
    auth = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
    poll = {"question": "Q?", "options": [{"key": "1", "label": "a"}, {"key": "2", "label": "b"}]}
    for method, path, body in (
        ("POST", "/api/talks", {"talk": talk_id}),
        ("PUT", "/api/polls/p", poll),
        ("POST", "/api/polls/p/open", None),
    ):
        assert requests.request(method, server.url + path, json=body, headers=auth, timeout=5).ok
    with requests.Session() as phone:  # closed: an idle keep-alive slows the server's exit
        page = phone.get(server.url + "/", timeout=5).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        cookie = phone.cookies[voters.COOKIE_NAME]
    return server, cookie, csrf


FAST = {"Accept": "application/json"}  # the page's fetch: voteserver/fastvote.py
FLASK_JSON = {"Accept": "application/json, text/plain;q=0.5"}  # the Flask view, JSON
FORM = {"Accept": "text/html"}  # a plain form post: the Flask view, redirects


def post_vote(server, cookie: bytes, body: bytes, headers: dict) -> requests.Response:
    return requests.post(
        server.url + "/vote",
        data=body,
        headers={
            **headers,
            "Cookie": b"cyoa_voter=" + cookie,
            "Content-Type": "application/x-www-form-urlencoded",
        },
        allow_redirects=False,
        timeout=10,
    )


def refused_as_expired(response: requests.Response, accept: dict) -> bool:
    if accept is FORM:
        return response.status_code == 303 and response.headers["Location"].endswith("m=expired")
    return response.status_code == 403 and response.json()["code"] == "expired"


@pytest.mark.parametrize("accept", [FAST, FLASK_JSON, FORM], ids=["fast", "flask-json", "form"])
def test_non_ascii_tokens_over_http_are_refused_as_expired(served, accept):
    server, cookie, csrf = served
    good_cookie = cookie.encode()
    voter = cookie.partition(".")[0].encode()
    attempts = [
        (good_cookie, b"poll=p&choice=1&csrf=%C3%A9%C3%A9", {}),  # UTF-8 in the form
        (good_cookie, b"poll=p&choice=1&csrf=\xc3\xa9\xff\xfe", {}),  # raw, not UTF-8
        (good_cookie, b"poll=p&choice=1&csrf=%ED%B3%BF", {}),  # an encoded lone surrogate
        (good_cookie, b"poll=p&choice=1", {"X-CSRF-Token": b"\xe9\xff"}),  # a header
        (voter + b".\xc3\xa9", b"poll=p&choice=1&csrf=" + csrf.encode(), {}),  # cookie MAC
        (b"w\xc3\xa9." + good_cookie, b"poll=p&choice=1&csrf=" + csrf.encode(), {}),
        (good_cookie, b"poll=p&choice=1&csrf=forged-but-ascii", {}),  # the control case
    ]
    for cookie_bytes, body, extra in attempts:
        response = post_vote(server, cookie_bytes, body, {**accept, **extra})
        assert refused_as_expired(response, accept), (body, response.status_code, response.text)

    counted = post_vote(server, good_cookie, b"poll=p&choice=1&csrf=" + csrf.encode(), accept)
    assert counted.status_code in (200, 303) and "expired" not in counted.headers.get(
        "Location", ""
    )


@pytest.mark.parametrize(
    "header", [b"Bearer \xc3\xa9", b"Bearer \xe9\xff", b"Bearer " + "é".encode() * 30, b"\xff x"]
)
def test_a_non_ascii_presenter_token_over_http_is_a_401(served, header):
    server, _, _ = served
    response = requests.put(
        server.url + "/api/state", json={"scene": "x"}, headers={"Authorization": header}, timeout=5
    )
    assert response.status_code == 401, response.text


@pytest.mark.parametrize("accept", [FAST, FLASK_JSON, FORM], ids=["fast", "flask-json", "form"])
@pytest.mark.parametrize("origin", [b"http://[", b"http://[::1", b"\xff\xfe://x"])
def test_a_malformed_origin_is_refused_as_foreign_never_a_500(served, accept, origin):
    server, cookie, csrf = served
    body = b"poll=p&choice=1&csrf=" + csrf.encode()
    response = post_vote(server, cookie.encode(), body, {**accept, "Origin": origin})
    assert response.status_code == 403, (origin, response.status_code, response.text)
    assert "from this page" in response.text
