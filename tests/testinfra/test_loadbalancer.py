GROUP = "lb"


def test_haproxy_package_and_unit(host):
    assert host.package("haproxy").is_installed
    unit = host.service("haproxy")
    assert unit.is_running and unit.is_enabled


def test_frontend_listens_on_the_seed_port(host):
    assert host.socket("tcp://0.0.0.0:8200").is_listening


def test_every_app_host_is_a_backend_and_up(host, node):
    stat = host.check_output("echo 'show stat' | socat stdio /run/haproxy/admin.sock")
    servers = {
        row.split(",")[1]: row.split(",")[17]
        for row in stat.splitlines()
        if row.startswith("ecis_api,") and row.split(",")[1] not in ("FRONTEND", "BACKEND")
    }
    assert set(servers) == set(node["app_hosts"])
    assert set(servers.values()) == {"UP"}


def test_admin_socket_is_not_world_accessible(host):
    sock = host.file("/run/haproxy/admin.sock")
    assert sock.is_socket and sock.mode == 0o660
