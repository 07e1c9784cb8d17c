"""Runs the caller under a Python that has matplotlib.

matplotlib comes from Debian's python3-matplotlib (scripts/setup installs it), which
installs into the system interpreter. When `python3` on PATH is another one without
matplotlib (a virtual environment, a separately installed Python), the program is
started again under the system interpreter, once; if that has no matplotlib either,
the error says which package to install.
"""

import importlib.util
import os
import sys

SYSTEM_PYTHON = "/usr/bin/python3"
_REEXEC_MARK = "IOSIM_PLOT_SYSTEM_PYTHON"


def ensure_matplotlib(script: str) -> None:
    """Returns when matplotlib is installed; else re-executes `script` or exits with status 1."""
    if importlib.util.find_spec("matplotlib") is not None:
        return  # found; imported only when a figure is drawn
    here = os.path.realpath(sys.executable or "")
    if (not os.environ.get(_REEXEC_MARK) and os.access(SYSTEM_PYTHON, os.X_OK)
            and here != os.path.realpath(SYSTEM_PYTHON)):
        os.environ[_REEXEC_MARK] = "1"
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, script] + sys.argv[1:])
    sys.stderr.write(f"{os.path.basename(script)}: matplotlib is not installed for "
                     f"{sys.executable}: install python3-matplotlib (scripts/setup does)\n")
    sys.exit(1)
