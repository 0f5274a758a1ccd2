"""``python -m isfdsl``: the ``isf`` command line."""

from isfdsl.commands.cli import main

if __name__ == "__main__":
    main(prog_name="isf")
