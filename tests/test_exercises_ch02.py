from rlbook.exercises import check_encode, check_q_update


def reference_update(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions):
    max_q_next = 0.0 if terminated else max(Q[next_obs, a] for a in actions)
    Q[obs, action] += alpha * (reward + gamma * max_q_next - Q[obs, action])


def test_q_update_accepts_reference():
    v = check_q_update(reference_update)
    assert v.ok, v.message


def test_q_update_rejects_done_on_truncation():
    def wrong(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions):
        done = terminated or truncated
        max_q_next = 0.0 if done else max(Q[next_obs, a] for a in actions)
        Q[obs, action] += alpha * (reward + gamma * max_q_next - Q[obs, action])
    v = check_q_update(wrong)
    assert not v.ok and "truncation" in v.message


def test_q_update_rejects_always_bootstrapping():
    def wrong(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions):
        Q[obs, action] += alpha * (reward + gamma * max(Q[next_obs, a] for a in actions) - Q[obs, action])
    v = check_q_update(wrong)
    assert not v.ok and "terminated" in v.message


def test_q_update_rejects_sarsa_like_and_no_alpha_and_stub():
    def sarsa_like(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions):
        nxt = 0.0 if terminated else Q[next_obs, action]
        Q[obs, action] += alpha * (reward + gamma * nxt - Q[obs, action])
    def no_alpha(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions):
        Q[obs, action] = reward + (0.0 if terminated else gamma * max(Q[next_obs, a] for a in actions))
    def stub(*args):
        raise NotImplementedError
    def returns_value(Q, obs, action, reward, next_obs, terminated, truncated, alpha, gamma, actions):
        return reward
    assert "best next action" in check_q_update(sarsa_like).message
    assert "fraction alpha" in check_q_update(no_alpha).message
    assert "NotImplementedError" in check_q_update(stub).message
    assert "did not change" in check_q_update(returns_value).message


def test_encode_accepts_any_bijection():
    def base_n(bins, n_bins):
        return sum(b * n_bins**i for i, b in enumerate(bins))
    def big_endian(bins, n_bins):
        code = 0
        for b in bins:
            code = code * n_bins + b
        return code
    assert check_encode(base_n).ok
    assert check_encode(big_endian).ok


def test_encode_rejects_original_bug_and_collisions():
    def original(bins, n_bins):
        return sum(b * (n_bins + 1) ** i for i, b in enumerate(bins))
    def digit_sum(bins, n_bins):
        return sum(bins)
    def crashes(bins, n_bins):
        return bins[10]
    v = check_encode(original)
    assert not v.ok and "Base n_bins + 1" in v.message
    v = check_encode(digit_sum)
    assert not v.ok and "both encode to" in v.message
    v = check_encode(crashes)
    assert not v.ok and "IndexError" in v.message
    assert "return one int" in check_encode(lambda bins, n: None).message
