"""Task tokens bind one attempt of one task of one run."""

from updraft.taskapi.tokens import Attempt, token, verify

KEY = b"k" * 32


def test_token_verifies_only_its_attempt() -> None:
    a = Attempt("ns", "run-1", "load", 2)
    t = token(KEY, a)
    assert verify(KEY, a, t)
    for other in (Attempt("ns", "run-1", "load", 3), Attempt("ns", "run-2", "load", 2),
                  Attempt("ns", "run-1", "other", 2), Attempt("ns2", "run-1", "load", 2)):
        assert not verify(KEY, other, t)
    assert not verify(b"x" * 32, a, t)
    assert not verify(KEY, a, "")
