"""``python -m confaug``: the same as the ``confaug`` script."""

import sys

from confaug.cli import main

if __name__ == "__main__":
    sys.exit(main())
