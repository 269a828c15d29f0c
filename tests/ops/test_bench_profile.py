"""The benchmarks' profile of a run, read from the profile_tasks output Ansible prints."""

import subprocess

from bench.common import by_role, task_times

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


def test_time_is_summed_by_role_largest_first():
    profile = by_role(_run(OUTPUT))
    assert profile["tasks"] == 4
    assert profile["seconds"] == 8.2
    assert profile["roles"] == [["firewall", 4.7, 2], ["playbook", 3.2, 1], ["preflight", 0.2, 1]]


def test_a_run_without_profile_output_has_no_tasks():
    assert by_role(_run("PLAY RECAP ****\napp1 : ok=1 changed=0\n"))["tasks"] == 0
