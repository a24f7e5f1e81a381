from rlbook.exercises import check_replay_ratio, check_time_to_solve


def _first(evaluations, threshold):
    return next(((e["step"], e["train_seconds"]) for e in evaluations if e["mean"] >= threshold), None)


def test_time_to_solve_accepts_the_reference():
    assert check_time_to_solve(_first).ok


def test_time_to_solve_rejects_typical_mistakes():
    def best(evaluations, threshold):
        e = max(evaluations, key=lambda e: e["mean"])
        return (e["step"], e["train_seconds"]) if e["mean"] >= threshold else None

    def strict(evaluations, threshold):
        return next(((e["step"], e["train_seconds"]) for e in evaluations if e["mean"] > threshold), None)

    def index(evaluations, threshold):
        return next(((i, e["train_seconds"]) for i, e in enumerate(evaluations) if e["mean"] >= threshold), None)

    def always(evaluations, threshold):
        return evaluations[0]["step"], evaluations[0]["train_seconds"]

    assert "FIRST" in check_time_to_solve(best).message
    assert ">=, not >" in check_time_to_solve(strict).message
    assert "position in the list" in check_time_to_solve(index).message
    assert "return None" in check_time_to_solve(lambda ev, th: _first(ev, th) or (0, 0.0)).message
    assert not check_time_to_solve(always).ok
    assert "NotImplementedError" in check_time_to_solve(lambda *a: (_ for _ in ()).throw(NotImplementedError)).message


def test_replay_ratio():
    assert check_replay_ratio(lambda b, k, every: b * k / every).ok
    assert "divide by train_every" in check_replay_ratio(lambda b, k, every: b * k).message
    assert "multiply by batch_size" in check_replay_ratio(lambda b, k, every: k / every).message
    assert "upside down" in check_replay_ratio(lambda b, k, every: every / (b * k)).message
    assert "returned None" in check_replay_ratio(lambda b, k, every: None).message
