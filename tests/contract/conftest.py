"""Prints the totals of the contract fuzzing run at the end of the session."""


def pytest_terminal_summary(terminalreporter):
    import sys

    module = sys.modules.get("tests.contract.test_fuzz")
    line = module.summary() if module is not None else None
    if line:
        terminalreporter.write_sep("-", line)
