"""Commands: the ``isf`` command line and the drivers that run the stages for it."""
