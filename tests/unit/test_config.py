"""Operator settings from the environment: the chart's variables, and clear errors naming them."""

import pytest

from updraft.config import ConfigError, from_env


def test_defaults_when_nothing_is_set():
    s = from_env({})
    assert s.leader_election is False
    assert (s.lease_duration_s, s.lease_renew_deadline_s, s.lease_renew_period_s) == (15, 10, 5)
    assert s.max_concurrent_runs == 100


def test_chart_variables_are_read():
    s = from_env({"UPDRAFT_LEADER_ELECTION": "true", "UPDRAFT_LEADER_ELECTION_ID": "u-operator",
                  "UPDRAFT_POD_NAME": "u-operator-7d9-abc", "UPDRAFT_LEASE_DURATION_SECONDS": "20",
                  "UPDRAFT_RUNNER_ENV": '{"AWS_ENDPOINT_URL": "http://moto:5000"}',
                  "UPDRAFT_WATCH_NAMESPACE": "team-a", "UPDRAFT_MAX_CONCURRENT_RUNS": "7"})
    assert s.leader_election and s.leader_election_id == "u-operator" and s.identity == "u-operator-7d9-abc"
    assert s.lease_duration_s == 20
    assert s.runner_env == {"AWS_ENDPOINT_URL": "http://moto:5000"}
    assert s.namespace == "team-a" and s.max_concurrent_runs == 7


@pytest.mark.parametrize("env, named", [
    ({"UPDRAFT_LEADER_ELECTION": "maybe"}, "UPDRAFT_LEADER_ELECTION"),
    ({"UPDRAFT_MAX_WORKFLOWS": "ten"}, "UPDRAFT_MAX_WORKFLOWS"),
    ({"UPDRAFT_MAX_WORKFLOWS": "-1"}, "UPDRAFT_MAX_WORKFLOWS"),
    ({"UPDRAFT_RUNNER_ENV": "[1]"}, "UPDRAFT_RUNNER_ENV"),
    ({"UPDRAFT_RUNNER_ENV": "{"}, "UPDRAFT_RUNNER_ENV"),
    ({"UPDRAFT_DEFAULT_EGRESS": "{}"}, "UPDRAFT_DEFAULT_EGRESS"),
    ({"UPDRAFT_LEADER_ELECTION": "true", "UPDRAFT_LEASE_RENEW_DEADLINE_SECONDS": "20"},
     "UPDRAFT_LEASE_RENEW_DEADLINE_SECONDS"),
])
def test_bad_values_name_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        from_env(env)


def test_lease_timings_are_only_checked_with_leader_election():
    assert from_env({"UPDRAFT_LEASE_RENEW_DEADLINE_SECONDS": "20"}).lease_renew_deadline_s == 20


@pytest.mark.parametrize("env, fragment", [
    ({"UPDRAFT_TASK_API_URL": "http://op:8081"}, "UPDRAFT_TASK_API_PLAIN_HTTP=true"),
    ({"UPDRAFT_TASK_API_URL": "https://op:8081"}, "UPDRAFT_TASK_API_TLS_CERT"),
    ({"UPDRAFT_TASK_API_URL": "https://op:8081", "UPDRAFT_TASK_API_TLS_CERT": "c", "UPDRAFT_TASK_API_TLS_KEY": "k"},
     "UPDRAFT_TASK_API_CA_FILE"),
    ({"UPDRAFT_TASK_API_TLS_CERT": "c"}, "go together"),
    ({"UPDRAFT_TASK_API_URL": "http://op:8081", "UPDRAFT_TASK_API_PLAIN_HTTP": "true",
      "UPDRAFT_TASK_API_TLS_CERT": "c", "UPDRAFT_TASK_API_TLS_KEY": "k"}, "use https://"),
    ({"UPDRAFT_TASK_API_URL": "op:8081"}, "expected an https://"),
])
def test_the_task_api_is_https_unless_plain_http_is_chosen(env, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.").replace("(", r"\(")):
        from_env(env)


def test_task_api_tls_and_plain_http_settings_are_read():
    s = from_env({"UPDRAFT_TASK_API_URL": "https://op:8081", "UPDRAFT_TASK_API_TLS_CERT": "/t/tls.crt",
                  "UPDRAFT_TASK_API_TLS_KEY": "/t/tls.key", "UPDRAFT_TASK_API_CA_FILE": "/t/ca.crt"})
    assert (s.task_api_tls_cert, s.task_api_tls_key, s.task_api_ca_file) == ("/t/tls.crt", "/t/tls.key", "/t/ca.crt")
    assert from_env({"UPDRAFT_TASK_API_URL": "http://op:8081", "UPDRAFT_TASK_API_PLAIN_HTTP": "true"}).task_api_plain_http


def test_the_api_server_is_cut_out_of_the_default_egress():
    s = from_env({"UPDRAFT_APISERVER_CIDRS": '["192.0.2.2/32"]', "UPDRAFT_APISERVER_PORTS": "[6443]",
                  "UPDRAFT_DEFAULT_EGRESS": '[{"cidr": "192.0.2.2/32", "ports": [{"port": 5000}]}]'})
    assert s.apiserver_cidrs == ("192.0.2.2/32",) and s.apiserver_ports == (6443,)
    assert [b.cidr for b in s.forbidden_egress()] == ["169.254.169.254/32", "fd00:ec2::254/128", "192.0.2.2/32"]


@pytest.mark.parametrize("env, fragment", [
    ({"UPDRAFT_DEFAULT_EGRESS": '[{"cidr": "10.0.0.0/8"}]'}, r"UPDRAFT_DEFAULT_EGRESS\[0\]: name its ports"),
    ({"UPDRAFT_APISERVER_CIDRS": '["192.0.2.2/32"]',
      "UPDRAFT_DEFAULT_EGRESS": '[{"cidr": "192.0.2.2/32", "ports": [{"port": 443}]}]'}, "Kubernetes API server"),
    ({"UPDRAFT_APISERVER_CIDRS": '["nope"]'}, "UPDRAFT_APISERVER_CIDRS"),
    ({"UPDRAFT_APISERVER_CIDRS": '"10.0.0.1/32"'}, "expected a JSON list"),
    ({"UPDRAFT_APISERVER_PORTS": "[]"}, "UPDRAFT_APISERVER_PORTS"),
    ({"UPDRAFT_APISERVER_PORTS": "[70000]"}, "UPDRAFT_APISERVER_PORTS"),
])
def test_bad_egress_settings_are_named(env, fragment):
    with pytest.raises(ConfigError, match=fragment):
        from_env(env)
