GROUP = "temporal"


def test_temporal_unit_runs_as_its_own_user(host):
    unit = host.service("temporal")
    assert unit.is_running and unit.is_enabled
    assert host.process.get(comm="temporal").user == "temporal"


def test_frontend_and_ui_listen(host, address, node):
    assert host.socket("tcp://0.0.0.0:7233").is_listening
    ui = node["temporal_ui_port"]
    if node["ui_exposure"] == "localhost":
        # On loopback only: reached through an SSH tunnel, not from the network.
        assert host.socket(f"tcp://127.0.0.1:{ui}").is_listening
        assert not host.socket(f"tcp://{address}:{ui}").is_listening
    else:
        assert host.socket(f"tcp://{address}:{ui}").is_listening


def test_state_lives_under_var_lib(host):
    data = host.file("/var/lib/temporal")
    assert data.is_directory and data.user == "temporal" and data.mode == 0o750
    assert host.file("/var/lib/temporal/temporal.db").exists


def test_namespace_is_registered_with_its_retention(host, address):
    out = host.check_output(
        f"temporal operator namespace describe --namespace ecis --address {address}:7233 -o json"
    )
    assert '"workflowExecutionRetentionTtl": "259200s"' in out
