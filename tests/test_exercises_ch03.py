import numpy as np

from rlbook.exercises import check_soft_update, check_td_target
from rlbook.losses import td_target


def test_td_target_accepts_numpy_and_the_library_function():
    def numpy_version(reward, next_q, terminated, gamma):
        return reward + gamma * (1 - terminated) * next_q.max(axis=1)
    assert check_td_target(numpy_version).ok
    assert check_td_target(td_target).ok


def test_td_target_rejects_typical_mistakes():
    assert "(1 - terminated)" in check_td_target(lambda r, q, t, g: r + g * q.max(axis=1)).message
    assert "max over a'" in check_td_target(lambda r, q, t, g: r + g * (1 - t) * q.mean(axis=1)).message
    assert "not discounted" in check_td_target(lambda r, q, t, g: g * (r + (1 - t) * q.max(axis=1))).message
    assert "axis=-1" in check_td_target(lambda r, q, t, g: r + g * (1 - t) * q.max()).message
    assert "NotImplementedError" in check_td_target(lambda *a: (_ for _ in ()).throw(NotImplementedError)).message


def test_soft_update():
    ok = lambda target, online, tau: [tau * o + (1 - tau) * t for t, o in zip(target, online)]
    assert check_soft_update(ok).ok
    swapped = lambda target, online, tau: [(1 - tau) * o + tau * t for t, o in zip(target, online)]
    assert "swapped" in check_soft_update(swapped).message
    assert "hard copy" in check_soft_update(lambda target, online, tau: online).message
    def in_place(target, online, tau):
        for t, o in zip(target, online):
            t *= 1 - tau
            t += tau * o
    assert "returned None" in check_soft_update(in_place).message
