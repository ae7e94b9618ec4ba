"""Two real ``cyoa serve`` processes on one Redis: concurrent phones, one truth.

Redis is the vote server's only state, so any number of server processes must agree: votes
posted concurrently to both count once each, and both report the same results.
"""

from __future__ import annotations

import random
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import PRESENTER_TOKEN

pytestmark = pytest.mark.slow

POLL = {
    "question": "Which way?",
    "options": [{"key": "1", "label": "Left"}, {"key": "2", "label": "Right"}],
}
PHONES = 60
JSON = {"Accept": "application/json"}


def presenter(url: str, method: str, path: str, **kwargs) -> dict:
    headers = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
    response = requests.request(method, url + path, headers=headers, timeout=10, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


def phone_votes(servers: list[str], choices: list[str]) -> str:
    """One phone: load the page on one server, vote (and change) across both; last choice."""
    http = requests.Session()
    page = http.get(servers[0] + "/", timeout=10).text
    csrf = re.search(r'<input type="hidden" name="csrf" value="([^"]+)"', page).group(1)
    stands = ""
    for i, choice in enumerate(choices):
        response = http.post(
            servers[i % 2] + "/vote",
            data={"poll": "product", "choice": choice, "csrf": csrf},
            headers=JSON,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == ("counted" if i == 0 else "changed")
        stands = choice
    return stands


def test_two_server_processes_count_concurrent_votes_once(start_server, talk_id):
    first, second = start_server(), start_server()  # same env: same REDIS_URL
    servers = [first.url, second.url]
    presenter(first.url, "POST", "/api/talks", json={"talk": talk_id})
    presenter(second.url, "PUT", "/api/polls/product", json=POLL)
    presenter(first.url, "POST", "/api/polls/product/open")

    rng = random.Random(7)
    plans = []
    for phone in range(PHONES):
        first_choice = rng.choice("12")
        other = "2" if first_choice == "1" else "1"
        # About a third change their mind; the change goes to the other server.
        choices = [first_choice, other] if rng.random() < 0.3 else [first_choice]
        plans.append((servers if phone % 2 else servers[::-1], choices))
    with ThreadPoolExecutor(max_workers=12) as pool:
        finals = list(pool.map(lambda plan: phone_votes(*plan), plans))

    expected = {"1": finals.count("1"), "2": finals.count("2")}
    results = [requests.get(f"{url}/api/polls/product", timeout=10).json() for url in servers]
    assert results[0] == results[1]
    assert results[0]["total"] == PHONES
    assert {o["key"]: o["votes"] for o in results[0]["options"]} == expected
