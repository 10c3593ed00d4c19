"""One construct per capability of the platform."""
