"""The live layer, headless: a person's live session on a world, between the shells and the engine.

It opens and locks a world, runs its clock, serves the person's feed queue,
journals their reactions and checkpoints the simulation. The Textual app drives
it; so can any other shell. Nothing in this package imports Textual.

:class:`fyp_tui.live.session.LiveSession` is the entry point; view data comes back
as the plain dataclasses of :mod:`fyp_tui.live.views`.
"""
