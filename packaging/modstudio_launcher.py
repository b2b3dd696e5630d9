"""Entry point of the bundled studio (PyInstaller runs this file as ``__main__``)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # torch DataLoader workers re-run the executable on Windows/macOS
    from modstudio.cli import main

    sys.exit(main())
