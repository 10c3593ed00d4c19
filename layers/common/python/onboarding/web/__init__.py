"""The HTTP edge shared by the API functions."""
