"""``python -m qoder``: see :mod:`qoder.cli`."""

from qoder.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
