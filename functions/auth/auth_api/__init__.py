"""The auth function: sign-up and activation, login, the signed-in user and environment."""
