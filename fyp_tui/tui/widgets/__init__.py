"""Widgets of the app: the video canvas, the card and rail, the side panel, the event strip, the header."""
