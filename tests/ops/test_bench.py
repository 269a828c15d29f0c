"""The benchmarks' helpers: the profile of a run, read from the profile_tasks output Ansible
prints, and the paced load, against a local stand-in for the API on loopback."""

import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.common import by_role, slowest_tasks, task_times
from tests.lifecycle.load import Load

# The shape ansible.posix.profile_tasks prints: each banner is followed by a stamp whose
# parenthesised figure is the time the task before it took; the recap's stamp closes the last.
OUTPUT = """
PLAY [Preflight checks] ********************************************************

TASK [Gather facts] ************************************************************
Thursday 03 December 2026  15:36:02 +0000 (0:00:00.041)       0:00:00.041 *****
ok: [app1]

TASK [preflight : Check CPUs against the tier] *********************************
Thursday 03 December 2026  15:36:05 +0000 (0:00:03.180)       0:00:03.221 *****
ok: [app1]

PLAY [Host firewall] ***********************************************************

TASK [firewall : Install nftables] *********************************************
Thursday 03 December 2026  15:36:05 +0000 (0:00:00.250)       0:00:03.471 *****
ok: [app1]

RUNNING HANDLER [firewall : Reload the rules] **********************************
Thursday 03 December 2026  15:36:09 +0000 (0:00:03.660)       0:00:07.131 *****
changed: [app1]

PLAY RECAP *********************************************************************
app1                       : ok=4    changed=1    unreachable=0    failed=0

TASKS RECAP ********************************************************************
Thursday 03 December 2026  15:36:10 +0000 (0:00:01.069)       0:01:08.200 *****
===============================================================================
firewall : Install nftables --------------------------------------------- 3.66s
"""


def _run(stdout: str) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess([], 0, stdout=stdout)


def test_every_task_gets_the_time_printed_under_the_next_banner():
    assert task_times(_run(OUTPUT)) == [
        ("Gather facts", 3.18),
        ("preflight : Check CPUs against the tier", 0.25),
        ("firewall : Install nftables", 3.66),
        ("firewall : Reload the rules", 1.069),
    ]


def test_the_slowest_tasks_come_first():
    assert slowest_tasks(_run(OUTPUT), count=2) == [
        ["firewall : Install nftables", 3.66],
        ["Gather facts", 3.18],
    ]


def test_time_is_summed_by_role_largest_first():
    profile = by_role(_run(OUTPUT))
    assert profile["tasks"] == 4
    assert profile["seconds"] == 8.2
    assert profile["roles"] == [["firewall", 4.7, 2], ["playbook", 3.2, 1], ["preflight", 0.2, 1]]


def test_a_run_without_profile_output_has_no_tasks():
    assert by_role(_run("PLAY RECAP ****\napp1 : ok=1 changed=0\n"))["tasks"] == 0


class _Api(BaseHTTPRequestHandler):
    """Answers as the API does: /health healthy, a POST of an orchestration 202 with an id."""

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._answer(200, {"status": "healthy", "version": "1.0"})

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self._answer(202, {"id": "x"})

    def log_message(self, *args):
        pass


@pytest.fixture
def api_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_paced_load_keeps_to_its_rate(api_url):
    load = Load(api_url, version_ok={"1.0"}, clients=4, rate=20, max_seconds=2).start()
    time.sleep(2.5)
    load.stop()
    # 2 s at 20/s is 40 requests; unpaced, four clients send thousands to this server.
    assert 20 <= load.sent <= 44, load.sent
    assert not load.failures and len(load.started_ids) == load.sent // 10


def test_an_unpaced_load_sends_as_fast_as_answers_come(api_url):
    load = Load(api_url, version_ok={"1.0"}, clients=4, max_seconds=1).start()
    time.sleep(1.5)
    load.stop()
    assert load.sent > 100, load.sent
    assert not load.failures
