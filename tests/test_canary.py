import pytest

from harness import canary


def test_parse_units() -> None:
    assert canary.parse("subint:20ms, mp_spawn:0.5,trio:2s") == {"subint": 0.02, "mp_spawn": 0.5, "trio": 2.0}
    assert canary.parse("trio:hang") == {"trio": canary.HANG}
    assert canary.parse("") == {}


@pytest.mark.parametrize("bad", ["subint", "subint:-1ms", "subint:abc", ":5ms"])
def test_parse_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        canary.parse(bad)


def test_delay_for_reads_environment() -> None:
    env = {canary.ENV_VAR: "subint:15ms"}
    assert canary.delay_for("subint", env) == pytest.approx(0.015)
    assert canary.delay_for("trio", env) == 0.0
    assert canary.delay_for("trio", {}) == 0.0
