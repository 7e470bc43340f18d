"""The demo: the real application against the local Bot API emulator (district.py), and the walk
through one case that `make run` shows without a token (walk.py). Above bot/: it wires the app;
the emulator below it imports nothing of the bot's."""
