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
