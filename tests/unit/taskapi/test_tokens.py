"""Task tokens bind one pod of one attempt of one task of one run object (its uid)."""

from updraft.taskapi.tokens import Attempt, pod_of, token, verify

KEY = b"k" * 32


def test_token_verifies_only_its_attempt() -> None:
    a = Attempt("ns", "run-1", "load", 2, "uid-1", "run-1-load-2")
    t = token(KEY, a)
    assert verify(KEY, a, t)
    for other in (Attempt("ns", "run-1", "load", 3, "uid-1", "run-1-load-2"),
                  Attempt("ns", "run-2", "load", 2, "uid-1", "run-1-load-2"),
                  Attempt("ns", "run-1", "other", 2, "uid-1", "run-1-load-2"),
                  Attempt("ns2", "run-1", "load", 2, "uid-1", "run-1-load-2"),
                  # a run deleted and made again under the same name has a new uid
                  Attempt("ns", "run-1", "load", 2, "uid-2", "run-1-load-2"),
                  # another pod (a reschedule) of the same attempt
                  Attempt("ns", "run-1", "load", 2, "uid-1", "run-1-load-2-r1")):
        assert not verify(KEY, other, t)
    assert not verify(b"x" * 32, a, t)
    assert not verify(KEY, a, "")


def test_the_token_names_its_pod_and_nothing_else_passes_for_one() -> None:
    a = Attempt("ns", "run-1", "load", 2, "uid-1", "run-1-load-2")
    assert pod_of(token(KEY, a)) == "run-1-load-2"
    for bad in ("", "0" * 64, "run-1-load-2." + "0" * 63, "Run.x" + "0" * 64, "a/b." + "0" * 64, ".", "x." + "g" * 64):
        assert pod_of(bad) is None
