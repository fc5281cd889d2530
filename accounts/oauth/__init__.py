"""OAuth 2.0 for mail accounts, without Django: the provider table and the token endpoint.

`providers.py` reads the providers' endpoints and scopes from the data file; `client.py`
builds the authorisation URL (PKCE S256) and talks to the token endpoint. The services in
accounts/services/oauth*.py add the settings, the session and the database.
"""
