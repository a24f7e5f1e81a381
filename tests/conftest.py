import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hypothesis import settings  # noqa: E402

# CI replays the same examples on every run (a red build is then reproducible); locally each run
# draws new ones, which is how property tests find new counter-examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
