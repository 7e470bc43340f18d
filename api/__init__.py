"""The Open311 GeoReport v2 API: the 12345 hotline and other systems file and follow cases here.

routes.py (endpoints), formats.py (JSON and XML as the spec writes them), auth.py (channels, keys,
rate limits), errors.py (the spec's error bodies), media.py (fetching a media_url safely),
callbacks.py (state changes POSTed to a channel, from the outbox), server.py (wiring, `python -m bot api`).
Intake itself is channel-free, in cases/channels.py.
"""
