"""The app's screens: feed, profile, studio, world, and the dialogs."""
