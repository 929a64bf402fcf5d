"""`updraft api serve` refuses unusable settings with one line naming the option, before it
touches Kubernetes."""

from __future__ import annotations

import json

import pytest

from updraft.cli import main

BASE = ["api", "serve", "--region", "us-east-1", "--account-id", "123456789012", "--plain-http"]
NO_TLS = ["api", "serve", "--region", "us-east-1", "--account-id", "123456789012", "--insecure-no-auth"]


@pytest.mark.parametrize("extra,fragment", [
    ([], "--credentials FILE is required"),
    (["--insecure-no-auth", "--credentials", "x.json"], "not both"),
    (["--insecure-no-auth", "--port", "0"], "TCP ports"),
    (["--insecure-no-auth", "--rate-limit", "0"], "--rate-limit"),
    (["--credentials", "/nonexistent/credentials.json"], "credentials.json"),
])
def test_bad_settings_exit_2_with_a_message(extra, fragment, capsys):
    assert main(BASE + extra) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


@pytest.mark.parametrize("args,fragment", [
    (["api", "serve", "--region", "Mars", "--account-id", "123456789012", "--insecure-no-auth"], "--region 'Mars'"),
    (["api", "serve", "--region", "us-east-1", "--account-id", "42", "--insecure-no-auth"], "12 digits"),
])
def test_region_and_account_must_fit_the_arn(args, fragment, capsys):
    assert main(args) == 2
    assert fragment in capsys.readouterr().err


@pytest.mark.parametrize("extra,fragment", [
    ([], "--tls-cert FILE --tls-key FILE are required (or --plain-http"),
    (["--tls-cert", "c.pem"], "go together"),
    (["--tls-cert", "c.pem", "--tls-key", "k.pem", "--plain-http"], "not both"),
    (["--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"], "/nonexistent/c.pem"),
])
def test_tls_or_plain_http_is_chosen_explicitly(extra, fragment, capsys):
    assert main(NO_TLS + extra) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_a_broken_policy_stops_start_up_naming_the_key(tmp_path, capsys):
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps({"AKIAEXAMPLE000000001": {
        "secretAccessKey": "s", "principal": "arn:aws:iam::123456789012:user/a",
        "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allwo", "Action": "*", "Resource": "*"}]}]}}))
    assert main(BASE + ["--credentials", str(creds)]) == 2
    err = capsys.readouterr().err
    assert "AKIAEXAMPLE000000001" in err and "Effect" in err


def test_help_explains_the_credentials_file(capsys):
    with pytest.raises(SystemExit):
        main(["api", "serve", "--help"])
    out = capsys.readouterr().out
    assert "secretAccessKey" in out and "--insecure-no-auth" in out
