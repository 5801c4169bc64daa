"""PrepSkul Sessions: the life of a paid tutoring session, from booking to the notes."""

__version__ = "0.1.0"
