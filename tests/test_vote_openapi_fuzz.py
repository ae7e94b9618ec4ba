"""The OpenAPI document, fuzzed against a running server by schemathesis.

Never a 5xx, and every answer as the document says: a documented status code, a documented
content type, and a body its schema accepts (schemathesis's response-conformance checks).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import PRESENTER_TOKEN

pytestmark = pytest.mark.slow
# No 5xx, and every answer as documented: its status code, its content type, its body.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


def test_schemathesis_finds_no_server_error(start_server, tmp_path):
    server = start_server()
    auth = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
    poll = {"question": "Q?", "options": [{"key": "1", "label": "a"}, {"key": "2", "label": "b"}]}
    assert requests.put(server.url + "/api/polls/p", json=poll, headers=auth, timeout=5).ok
    schemathesis = Path(sys.executable).parent / "schemathesis"
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    result = subprocess.run(
        [
            str(schemathesis),
            "run",
            server.url + "/api/openapi.json",
            "--checks",
            ",".join(CHECKS),
            "--max-examples",
            "60",
            # no "coverage" phase, one worker: on CPython 3.11 the coverage phase trips "AST
            # constructor recursion depth mismatch" inside hypothesis (a CPython bug, worse
            # with threads) and fails the run though no request got a server error
            "--phases",
            "examples,fuzzing",
            "--workers",
            "1",
            "-H",
            f"Authorization: Bearer {PRESENTER_TOKEN}",
            # as the page's script asks: /vote answers JSON (its documented bodies), not a 303
            "-H",
            "Accept: application/json",
            "--exclude-path",
            "/sms",  # fuzzed separately with signed requests (test_sms)
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    ran = re.search(r"(\d+) generated, (\d+) passed", output)
    assert ran and ran.group(1) == ran.group(2) and int(ran.group(1)) >= 100, output[-2000:]
