"""The host firewall on every host: its own nftables table, dropping by default, SSH open."""

import pytest

GROUP = "all"


@pytest.fixture(autouse=True)
def _firewall_on(node):
    if not node["firewall"]:
        pytest.skip("firewall_enabled is false for this host")


def test_firewall_unit_loads_the_table_at_boot(host):
    unit = host.service("ecis-firewall")
    assert unit.is_enabled
    assert host.run("systemctl is-active ecis-firewall").stdout.strip() == "active"
    rules = host.file("/etc/nftables.d/ecis.nft")
    assert rules.user == "root" and rules.mode == 0o640


def test_table_drops_what_it_does_not_accept_and_keeps_ssh(host):
    table = host.check_output("nft list table inet ecis")
    assert "hook input priority filter; policy drop;" in table
    assert "tcp dport 22 accept" in table
    assert 'iif "lo" accept' in table
