"""The classroom host: one live world served to many people over a websocket.

``fyp-tui host`` runs :class:`~fyp_tui.host.server.Host`: it owns the world's
clock, the simulated audience, every person's feed session (one
:class:`~fyp_tui.host.world.PersonSession` per profile, all on one world), the
journal and the checkpoints. People join with the protocol of
:mod:`fyp_tui.host.protocol` (terminal clients through
:mod:`fyp_tui.host.client`, browser tabs through ``fyp-tui serve``).

The host drives the live layer; it imports no Textual.
"""
