# The notebooks' nbval runs (make test, make test-student) save their outputs for the book
# build when RLBOOK_EXECUTED is set: tools/executed.py.
pytest_plugins = ("tools.executed",)
