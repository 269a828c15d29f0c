GROUP = "redis"


def test_redis_package_and_unit(host):
    assert host.package("redis-server").is_installed
    unit = host.service("redis-server")
    assert unit.is_running and unit.is_enabled


def test_redis_listens_on_the_seed_port_on_loopback_and_private_address(host, address):
    assert host.socket(f"tcp://{address}:6380").is_listening
    assert host.socket("tcp://127.0.0.1:6380").is_listening
    assert not host.socket("tcp://0.0.0.0:6380").is_listening


def test_acl_file_holds_hashes_not_passwords(host, node):
    acl = host.file("/etc/redis/users.acl")
    assert acl.mode == 0o640 and acl.user == "redis"
    content = acl.content_string
    assert "user default off" in content
    for secret in node["redis_secrets"]:
        assert secret not in content
    assert content.count(" #") == 2


def test_unauthenticated_clients_are_refused(host):
    out = host.run("redis-cli -p 6380 PING")
    assert "NOAUTH" in out.stdout + out.stderr
