import pytest

from rlbook.schedules import exponential, linear, make_schedule


def test_linear_hand_computed():
    assert linear(0, 1.0, 0.1, 100) == 1.0
    assert linear(25, 1.0, 0.1, 100) == pytest.approx(0.775)
    assert linear(100, 1.0, 0.1, 100) == pytest.approx(0.1)
    assert linear(10_000, 1.0, 0.1, 100) == pytest.approx(0.1)
    assert linear(5, 1.0, 0.1, 0) == 0.1


def test_exponential_hand_computed():
    # gap shrinks 100-fold over the duration: at the midpoint it has shrunk 10-fold
    assert exponential(0, 1.0, 0.0, 100) == pytest.approx(1.0)
    assert exponential(50, 1.0, 0.0, 100) == pytest.approx(0.1)
    assert exponential(50, 1.0, 0.1, 100) == pytest.approx(0.1 + 0.9 * 0.1)
    assert exponential(100, 1.0, 0.1, 100) == 0.1
    values = [exponential(t, 1.0, 0.05, 1000) for t in range(0, 1001, 50)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_make_schedule():
    assert make_schedule("constant", 0.3, 0.0, 10)(999) == 0.3
    assert make_schedule("linear", 1.0, 0.0, 10)(5) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="must be one of"):
        make_schedule("step", 1.0, 0.0, 10)
    with pytest.raises(ValueError, match=r"epsilon_start must be a number in \[0, 1\]"):
        make_schedule("linear", 1.5, 0.0, 10)
