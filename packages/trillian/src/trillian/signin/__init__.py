"""The ways people sign in: Ebling's simple login, and OpenID Connect."""
