"""Sign-in and access control: who is asking (`guard.current_principal`), what each role may
see and do (`policy`), the login pages (`login`) and OpenID Connect (`oidc`)."""
