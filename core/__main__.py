import logging
import os
import sys

from core.cli import main

if __name__ == "__main__":  # worker processes import this module too
    code = main()
    # Everything is written and every worker joined: leave without the interpreter's
    # teardown of pandas, Arrow and spaCy (0.1-0.2 s of every command).
    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: let Python report it as it would
        sys.exit(code)
    os._exit(code)
