import json

GROUP = "app"


def test_units_run_as_the_service_user(host):
    for name in ("ecis-api", "ecis-worker"):
        unit = host.service(name)
        assert unit.is_running and unit.is_enabled, name
    pid = host.check_output("systemctl show -p MainPID --value ecis-api")
    assert host.check_output(f"ps -o user= -p {pid}") == "ecis"


def test_api_listens_on_its_port(host, address, node):
    port = node["api_port"]
    assert host.socket(f"tcp://{address}:{port}").is_listening


def test_current_points_at_an_installed_release(host):
    current = host.file("/opt/ecis/current")
    assert current.is_symlink
    release = current.linked_to
    assert release.startswith("/opt/ecis/releases/")
    assert host.file(f"{release}/.installed").exists
    assert host.file(release).user == "root"
    assert not host.file(f"{release}/wheelhouse").exists


def test_env_file_is_private_to_the_service_user(host, node):
    env = host.file("/etc/ecis/orchestrator.env")
    assert env.mode == 0o600 and env.user == "ecis"
    content = env.content_string
    assert "DATABASE_URL=" in content and "TEMPORAL_HOST=" in content
    assert host.file("/etc/ecis/production.yaml").mode == 0o640


def test_the_release_installed_without_an_index(host):
    # pip was pointed at the wheelhouse only; the host has no pip configuration of its own.
    assert not host.file("/etc/pip.conf").exists


def test_health_reports_the_installed_version(host, address, node):
    port = node["api_port"]
    release = host.file("/opt/ecis/current").linked_to.rsplit("/", 1)[-1]
    out = host.check_output(
        f'python3 -c "import urllib.request; print(urllib.request.urlopen('
        f"'http://{address}:{port}/health').read().decode())\""
    )
    assert json.loads(out) == {
        "status": "healthy",
        "service": "ecis-orchestrator",
        "version": release,
    }
