GROUP = "postgres"


def test_postgresql_package_and_unit(host):
    assert host.package("postgresql-15").is_installed
    unit = host.service("postgresql@15-main")
    assert unit.is_running and unit.is_enabled


def test_postgresql_listens_on_the_seed_port_on_the_private_address(host, address):
    assert host.socket(f"tcp://{address}:5434").is_listening
    assert not host.socket("tcp://0.0.0.0:5434").is_listening
    assert not host.socket("tcp://0.0.0.0:5432").is_listening


def test_client_rules_are_scram_and_scoped_to_the_app_database(host):
    hba = host.file("/etc/postgresql/15/main/pg_hba.conf")
    assert hba.mode == 0o640 and hba.user == "postgres"
    rules = [line.split() for line in hba.content_string.splitlines() if line and line[0] != "#"]
    assert ["local", "all", "postgres", "peer"] in rules
    for rule in rules:
        if rule[0] == "host":
            assert rule[1:3] == ["ecis_orchestrator", "ecis"], rule
            assert rule[-1] == "scram-sha-256", rule


def test_app_role_is_not_a_superuser(host):
    with host.sudo("postgres"):
        query = "SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = 'ecis'"
        out = host.check_output(f'psql -p 5434 -Atc "{query}"')
    assert out == "f|f"
