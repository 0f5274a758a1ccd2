"""IR: the checked program in a syntax-free form that the later stages share."""
